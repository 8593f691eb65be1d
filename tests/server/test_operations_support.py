"""Helpers shared by the operations tests (no tests here): people, applications and cards in a given
state, made directly in the database (the lifecycle up to issuance is the cards app's, tested there)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from neweid.formats.idnumber import generate_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import MaritalStatus, MilitaryStatus
from neweid.server.accounts.models import Office
from neweid.server.applications.models import Application, Channel, Kind, Status
from neweid.server.cards.carddata import card_digests
from neweid.server.cards.models import Card, CardEvent, ProductionBatch
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.registry.models import Household, Person
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import Relationship

NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Taipei: office hours
EVENING = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # Thursday 20:00 in Taipei
TODAY = date(2026, 10, 1)
VILLAGE = "63000050001"  # Zhongzheng District, Taipei: the `office` fixture's township

_ids = random.Random(7321)
_numbers = itertools.count(1)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make_household(address: str = "臺北市中正區水源里1鄰汀州路三段1號") -> Household:
    return Household.objects.create(household_number=f"A{next(_numbers):07d}", village_code=VILLAGE,
                                    neighbourhood=1, address=address)


def make_person(household: Household | None = None, *, birth: date = date(1990, 5, 1), sex: Sex = Sex.MALE,
                relationship: Relationship = Relationship.HEAD, **extra: Any) -> Person:
    fields: dict[str, Any] = {
        "id_number": generate_id_number(_ids, "A", sex), "surname": "陳", "given_name": "志明",
        "romanised_name": "CHEN, CHIH-MING", "sex": sex.value, "birth_date": birth,
        "birthplace_name": "臺北市", "birthplace_county_code": "63000",
        "marital_status": MaritalStatus.SINGLE.value,
        "military_status": (MilitaryStatus.REGULAR if sex is Sex.MALE
                            else MilitaryStatus.NOT_APPLICABLE_FEMALE).value,
        "father_name": "陳大明", "mother_name": "林美麗",
        "household": household if household is not None else make_household(),
        "relationship": relationship.value,
    }
    fields.update(extra)
    return Person.objects.create(**fields)


def make_family(child_birth: date) -> tuple[Person, Person, Person]:
    """(father, mother, child) in one household; the child's parents are on the register."""
    household = make_household()
    father = make_person(household)
    mother = make_person(household, sex=Sex.FEMALE, relationship=Relationship.SPOUSE, given_name="美麗")
    child = make_person(household, birth=child_birth, relationship=Relationship.CHILD, father=father,
                        mother=mother, given_name="小明")
    return father, mother, child


def make_application(person: Person, office: Office, *, kind: Kind = Kind.NATIONWIDE_REPLACEMENT,
                     status: Status = Status.BATCHED, submitted_at: datetime = NOW,
                     email: str = "", phone: str = "", fee: int = 0) -> Application:
    return Application.objects.create(
        person=person, office=office, pickup_office=office, channel=Channel.COUNTER, kind=kind,
        photo=b"", status=status, fee=fee, application_date=submitted_at.date(), age_at_application=30,
        renewal_date=date(2036, 10, 1), submitted_at=submitted_at, contact_email=email, contact_phone=phone)


def make_batch() -> ProductionBatch:
    number = next(_numbers)
    return ProductionBatch.objects.create(reference=f"B20260901-{number:03d}",
                                          production_date=date(2026, 9, 1), sequence=number, size=1,
                                          created_at=NOW)


def make_card(person: Person, office: Office, *, state: CardState = CardState.ISSUED,
              certificate: CertificateState = CertificateState.ACTIVE, application: Application | None = None,
              batch: ProductionBatch | None = None, serial: str | None = None, arrived: bool = True,
              shipment: str = "", at: datetime = NOW) -> Card:
    """A card in ``state``; ``arrived``: its history shows it was received at the office."""
    record = SimulatedRegistry(clock=lambda: at).person(person.id_number)
    digests = card_digests(record)
    card = Card.objects.create(
        application=application if application is not None else make_application(person, office),
        person=person, pickup_office=office, serial=serial or f"AB{next(_numbers):07d}", state=state,
        state_changed_at=at, batch=batch if batch is not None else make_batch(), issue_date=date(2026, 9, 1),
        renewal_date=date(2036, 9, 1), certificate_state=certificate, data_as_of=at, face_digest=digests.face,
        chip_digest=digests.chip, shipment=shipment)
    if arrived:
        CardEvent.objects.create(card=card, from_state=CardState.SHIPPED, to_state=CardState.RECEIVED, at=at)
    return card
