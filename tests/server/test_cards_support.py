"""Helpers and fixtures shared by the cards tests (no tests here): people on the simulated register,
verified applications, a clock, and the simulated production centre, CA and notifier."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from neweid.formats.idnumber import generate_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import MaritalStatus, MilitaryStatus
from neweid.population.data import villages
from neweid.population.validity import age_on, renewal_date
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Application, Channel, Kind, Status
from neweid.server.cards.batching import do_apply_production_status, do_create_batches, do_send_batch
from neweid.server.cards.ca import SimulatedCitizenCa
from neweid.server.cards.models import Card, ProductionBatch
from neweid.server.cards.notify import SimulatedNotifier
from neweid.server.cards.production import SimulatedProductionCentre
from neweid.server.registry.models import Household, Person
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import Relationship

NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taipei
TODAY = date(2026, 10, 1)
_ids = random.Random(4242)
_numbers = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def village() -> str:
    return next(v.code for v in villages() if v.code.startswith("63000"))


def make_household() -> Household:
    return Household.objects.create(household_number=f"C{next(_numbers):07d}", village_code=village(),
                                    neighbourhood=1, address="臺北市中正區某里1鄰和平東路一段1號")


def make_person(household: Household | None = None, *, sex: Sex = Sex.MALE, birth: date = date(1990, 5, 1),
                **extra: Any) -> Person:
    fields: dict[str, Any] = {
        "id_number": generate_id_number(_ids, "A", sex), "surname": "陳", "given_name": "志明",
        "romanised_name": "CHEN, CHIH-MING", "sex": sex.value, "birth_date": birth,
        "birthplace_name": "臺北市", "birthplace_county_code": "63000",
        "marital_status": MaritalStatus.SINGLE.value,
        "military_status": (MilitaryStatus.REGULAR if sex is Sex.MALE
                            else MilitaryStatus.NOT_APPLICABLE_FEMALE).value,
        "father_name": "陳大明", "mother_name": "林美麗", "household": household or make_household(),
        "relationship": Relationship.HEAD.value,
    }
    fields.update(extra)
    return Person.objects.create(**fields)


def make_application(person: Person, office: Office, *, verified_at: datetime = NOW,
                     status: Status = Status.VERIFIED, opt_in: bool = True, email: str = "",
                     phone: str = "", submitted_at: datetime | None = None,
                     kind: Kind = Kind.NATIONWIDE_REPLACEMENT) -> Application:
    submitted = submitted_at or verified_at - timedelta(hours=1)
    day = submitted.date()
    return Application.objects.create(
        person=person, office=office, pickup_office=office, channel=Channel.COUNTER, kind=kind,
        certificate_opt_in=opt_in, photo=b"\xff\xd8\xff\xe0", status=status, application_date=day,
        age_at_application=age_on(person.birth_date, day), renewal_date=renewal_date(person.birth_date, day),
        submitted_at=submitted, verified_at=verified_at if status == Status.VERIFIED else None,
        contact_email=email, contact_phone=phone)


@dataclass
class World:
    """The simulated outside world of one test."""

    clock: Clock
    registry: SimulatedRegistry
    centre: SimulatedProductionCentre
    ca: SimulatedCitizenCa
    notifier: SimulatedNotifier

    def produce(self, day: date = TODAY, **kwargs: Any) -> list[ProductionBatch]:
        """Batch, send and poll until shipped: the cards end SHIPPED (or DEFECTIVE)."""
        batches = do_create_batches(day, registry=self.registry, now=self.clock(), **kwargs)
        for batch in batches:
            do_send_batch(batch.pk, centre=self.centre, now=self.clock())
            do_apply_production_status(batch.pk, centre=self.centre, ca=self.ca, now=self.clock())
            do_apply_production_status(batch.pk, centre=self.centre, ca=self.ca, now=self.clock())
        return batches


@pytest.fixture
def world() -> World:
    clock = Clock()
    return World(clock, SimulatedRegistry(clock=clock, rng=random.Random(5).randbytes),
                 SimulatedProductionCentre(seed=1), SimulatedCitizenCa(clock=clock), SimulatedNotifier())


@pytest.fixture
def clerk(make_staff: Callable[..., Any]) -> Any:
    return make_staff(Role.OFFICE_CLERK).user


def card_of(application: Application) -> Card:
    return Card.objects.get(application=application, reproduction_of__isnull=True)
