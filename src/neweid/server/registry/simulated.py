"""The simulated household registration system: :class:`HouseholdRegistry` over this app's tables.

It behaves like the external system it stands for, failures included: :class:`Faults` can take it down
(every call raises :class:`~neweid.server.registry.errors.RegistryUnavailableError`, as a network outage or
a timeout would) or make only the next few calls fail, so callers' retry and error paths can be tested::

    registry = SimulatedRegistry(clock=lambda: NOW)
    registry.faults.fail_next(1)
    registry.person("A123456789")   # raises RegistryUnavailableError
    registry.person("A123456789")   # answers
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from threading import Lock

from django.db.models import QuerySet
from django.utils import timezone

from neweid.formats.sex import Sex
from neweid.formats.zones import Birthplace, HouseholdRegion, MaritalStatus, MilitaryStatus
from neweid.population.data import counties, townships, villages
from neweid.server.registry.errors import (
    HouseholdNotFoundError,
    PersonNotFoundError,
    RegistryUnavailableError,
)
from neweid.server.registry.interface import Change, EventRecord, HouseholdRecord, PersonRecord
from neweid.server.registry.models import Household, Person, RegistryEvent
from neweid.server.registry.services import Rng, do_apply_change
from neweid.server.registry.values import EventKind, PersonStatus, Relationship

Clock = Callable[[], datetime]
LOOKUP_CHUNK = 5_000  # ID numbers per query in bulk lookups (well under every database's parameter limit)
_RELATIONSHIP_ORDER = {r.value: i for i, r in enumerate(Relationship)}


class FaultSetupError(ValueError):
    """A failure injection that makes no sense (a negative number of calls)."""


class Faults:
    """Failure injection: a switch for an outage and a counter of calls still to fail (thread-safe)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._down = False
        self._fail_next = 0

    def go_down(self) -> None:
        with self._lock:
            self._down = True

    def come_up(self) -> None:
        with self._lock:
            self._down = False
            self._fail_next = 0

    def fail_next(self, calls: int = 1) -> None:
        """The next ``calls`` calls fail, then the registry answers again."""
        if calls < 0:
            raise FaultSetupError("calls must not be negative")
        with self._lock:
            self._fail_next = calls

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Down for the duration of the ``with`` block."""
        self.go_down()
        try:
            yield
        finally:
            self.come_up()

    def check(self) -> None:
        with self._lock:
            if self._down:
                raise RegistryUnavailableError()
            if self._fail_next > 0:
                self._fail_next -= 1
                raise RegistryUnavailableError()


def region_of(village_code: str, neighbourhood: int) -> HouseholdRegion:
    """The household zone region for a village code (names from the reference data)."""
    township_code = village_code[:8]
    county_code = village_code[:5]
    name = village_names().get(village_code, village_code)
    return HouseholdRegion(county_code, counties()[county_code].name_zh, township_code,
                           townships()[township_code].name_zh, village_code, name, neighbourhood)


@cache
def village_names() -> dict[str, str]:
    return {v.code: v.name_zh for v in villages()}


def _household_record(household: Household) -> HouseholdRecord:
    region = region_of(household.village_code, household.neighbourhood)
    return HouseholdRecord(household.household_number, region, household.address)


class SimulatedRegistry:
    """:class:`~neweid.server.registry.interface.HouseholdRegistry` backed by the registry tables."""

    def __init__(self, *, clock: Clock = timezone.now, rng: Rng = os.urandom,
                 faults: Faults | None = None) -> None:
        self._clock = clock
        self._rng = rng
        self.faults = faults if faults is not None else Faults()

    # -- lookups --------------------------------------------------------------------------------------

    def _people(self) -> QuerySet[Person]:
        return Person.objects.select_related("household", "father", "mother", "spouse")

    def _record(self, person: Person, as_of: datetime) -> PersonRecord:
        return PersonRecord(
            id_number=person.id_number,
            surname=person.surname,
            given_name=person.given_name,
            romanised_name=person.romanised_name,
            foreign_name=person.foreign_name,
            naturalised=person.naturalised,
            sex=Sex(person.sex),
            birth_date=person.birth_date,
            birthplace=Birthplace(person.birthplace_name, person.birthplace_county_code),
            marital_status=MaritalStatus(person.marital_status),
            military_status=MilitaryStatus(person.military_status),
            father_name=person.father_name,
            father_id_number=person.father.id_number if person.father is not None else None,
            mother_name=person.mother_name,
            mother_id_number=person.mother.id_number if person.mother is not None else None,
            spouse_name=person.spouse_name,
            spouse_id_number=person.spouse.id_number if person.spouse is not None else None,
            under_guardianship=person.under_guardianship,
            status=PersonStatus(person.status),
            status_date=person.status_date,
            household=_household_record(person.household),
            relationship=Relationship(person.relationship),
            email=person.email,
            phone=person.phone,
            as_of=as_of,
        )

    def person(self, id_number: str) -> PersonRecord:
        self.faults.check()
        as_of = self._clock()
        try:
            return self._record(self._people().get(id_number=id_number), as_of)
        except Person.DoesNotExist:
            raise PersonNotFoundError() from None

    def people(self, id_numbers: Iterable[str]) -> dict[str, PersonRecord]:
        self.faults.check()
        as_of = self._clock()
        wanted = list(dict.fromkeys(id_numbers))
        result: dict[str, PersonRecord] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start:start + LOOKUP_CHUNK]
            for person in self._people().filter(id_number__in=chunk):
                result[person.id_number] = self._record(person, as_of)
        return result

    def household(self, household_number: str) -> HouseholdRecord:
        self.faults.check()
        try:
            return _household_record(Household.objects.get(household_number=household_number))
        except Household.DoesNotExist:
            raise HouseholdNotFoundError() from None

    def members(self, household_number: str) -> tuple[PersonRecord, ...]:
        self.faults.check()
        as_of = self._clock()
        if not Household.objects.filter(household_number=household_number).exists():
            raise HouseholdNotFoundError()
        people = list(self._people().filter(household__household_number=household_number))
        people.sort(key=lambda p: (_RELATIONSHIP_ORDER.get(p.relationship, len(_RELATIONSHIP_ORDER)),
                                   p.birth_date, p.pk))
        return tuple(self._record(p, as_of) for p in people)

    def changed_since(self, since: datetime) -> tuple[str, ...]:
        self.faults.check()
        rows = (Person.objects.filter(updated_at__gt=since).order_by("updated_at", "pk")
                .values_list("id_number", flat=True))
        return tuple(rows)

    def events(self, id_number: str) -> tuple[EventRecord, ...]:
        self.faults.check()
        if not Person.objects.filter(id_number=id_number).exists():
            raise PersonNotFoundError()
        rows = RegistryEvent.objects.filter(person__id_number=id_number).order_by("recorded_at", "pk")
        return tuple(_event_record(e, id_number) for e in rows)

    # -- changes --------------------------------------------------------------------------------------

    def apply(self, change: Change) -> EventRecord:
        self.faults.check()
        event = do_apply_change(change, at=self._clock(), rng=self._rng)
        return _event_record(event, change.id_number)

    def population_size(self) -> int:
        """How many people are on the register (any status); for dashboards and the CLI."""
        self.faults.check()
        return Person.objects.count()


def _event_record(event: RegistryEvent, id_number: str) -> EventRecord:
    return EventRecord(event.pk, EventKind(event.kind), id_number, event.effective_date, event.recorded_at,
                       dict(event.payload))
