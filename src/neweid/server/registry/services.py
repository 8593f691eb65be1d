"""Changes to the household register, each applied atomically with its journal entries.

:func:`do_apply_change` locks the people a change touches (in primary-key order, so two changes never
deadlock), checks the change against their current state, updates the rows and writes one
:class:`~neweid.server.registry.models.RegistryEvent` per person whose registration changed. The rows stay
the only source of truth; the events say what happened.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any

from django.db import transaction
from django.utils import timezone

from neweid.formats.idnumber import is_valid_id_number
from neweid.formats.zones import MaritalStatus
from neweid.population.data import counties, villages
from neweid.server.registry.errors import (
    ChangeConflictError,
    HouseholdNotFoundError,
    InvalidChangeError,
    PersonNotFoundError,
)
from neweid.server.registry.interface import (
    Change,
    Death,
    Divorce,
    Emigration,
    Guardianship,
    Marriage,
    Move,
    NameChange,
    NewHousehold,
    Return,
    StatusChange,
)
from neweid.server.registry.models import Household, Person, RegistryEvent
from neweid.server.registry.values import EventKind, PersonStatus, Relationship

logger = logging.getLogger(__name__)

Rng = Callable[[int], bytes]
MARRIAGE_MIN_AGE = 18  # Civil Code art. 980 since 2023
MAX_NAME_LENGTH = 20
MAX_ADDRESS_LENGTH = 200
_STATUS_CHANGE_TARGETS = {PersonStatus.MISSING, PersonStatus.INMATE, PersonStatus.REGISTRATION_CANCELLED,
                          PersonStatus.ACTIVE}


@cache
def _village_codes() -> frozenset[str]:
    return frozenset(v.code for v in villages())


def do_apply_change(change: Change, *, at: datetime, rng: Rng = os.urandom) -> RegistryEvent:
    """Apply ``change`` recorded at ``at``; returns the event of the person the change names."""
    _check_common(change, at)
    handler = _HANDLERS[type(change)]
    with transaction.atomic():
        event = handler(change, at, rng)
    logger.info("registry change applied: %s event %s", change.KIND.value, event.pk)
    return event


def _check_common(change: Change, at: datetime) -> None:
    if timezone.is_naive(at):
        raise InvalidChangeError("the recording time must be timezone-aware")
    if not is_valid_id_number(change.id_number):
        raise InvalidChangeError("the ID number is not valid")
    if change.effective_date > timezone.localdate(at):
        raise InvalidChangeError("the effective date is after the recording date")


def _lock(*id_numbers: str) -> list[Person]:
    """The people with these ID numbers, locked, in the order given; PersonNotFoundError if one is missing."""
    rows = {p.id_number: p for p in
            Person.objects.select_for_update().filter(id_number__in=id_numbers).order_by("pk")}
    missing = [n for n in id_numbers if n not in rows]
    if missing:
        raise PersonNotFoundError()
    return [rows[n] for n in id_numbers]


def _require_registered(person: Person) -> None:
    if not PersonStatus(person.status).is_registered:
        raise ChangeConflictError("the person is no longer on the household register")


def _event(kind: EventKind, person: Person, change: Change, at: datetime, payload: dict[str, Any],
           household: Household | None = None) -> RegistryEvent:
    person.updated_at = at
    person.save()
    return RegistryEvent.objects.create(kind=kind.value, person=person, household=household,
                                        effective_date=change.effective_date, recorded_at=at, payload=payload)


def _household_number(county_code: str, rng: Rng) -> str:
    letter = counties()[county_code].id_letter
    while True:
        digits = int.from_bytes(rng(4), "big") % 10**7
        number = f"{letter}{digits:07d}"
        if not Household.objects.filter(household_number=number).exists():
            return number


def _target_household(target: str | NewHousehold, rng: Rng) -> Household:
    if isinstance(target, str):
        try:
            return Household.objects.get(household_number=target)
        except Household.DoesNotExist:
            raise HouseholdNotFoundError() from None
    if target.village_code not in _village_codes():
        raise InvalidChangeError("unknown village code")
    if type(target.neighbourhood) is not int or not 1 <= target.neighbourhood <= 9999:
        raise InvalidChangeError("the neighbourhood must be from 1 to 9999")
    if not target.address.strip() or len(target.address) > MAX_ADDRESS_LENGTH:
        raise InvalidChangeError(f"the address must have 1 to {MAX_ADDRESS_LENGTH} characters")
    return Household.objects.create(household_number=_household_number(target.village_code[:5], rng),
                                    village_code=target.village_code, neighbourhood=target.neighbourhood,
                                    address=target.address)


def _move(person: Person, target: str | NewHousehold, relationship: Relationship, rng: Rng) -> dict[str, Any]:
    old = person.household.household_number
    household = _target_household(target, rng)
    if household.pk == person.household_id:
        raise ChangeConflictError("the person is already registered in this household")
    person.household = household
    person.relationship = (Relationship.HEAD if isinstance(target, NewHousehold) else relationship).value
    return {"from_household": old, "to_household": household.household_number}


def _apply_move(change: Move, at: datetime, rng: Rng) -> RegistryEvent:
    (person,) = _lock(change.id_number)
    _require_registered(person)
    payload = _move(person, change.to_household, change.relationship, rng)
    return _event(EventKind.MOVE, person, change, at, payload, person.household)


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _apply_marriage(change: Marriage, at: datetime, rng: Rng) -> RegistryEvent:
    if change.spouse_id_number == change.id_number:
        raise InvalidChangeError("a person cannot marry themselves")
    if not is_valid_id_number(change.spouse_id_number):
        raise InvalidChangeError("the spouse's ID number is not valid")
    person, spouse = _lock(change.id_number, change.spouse_id_number)
    for p in (person, spouse):
        _require_registered(p)
        if p.spouse_id is not None or p.marital_status == MaritalStatus.MARRIED.value:
            raise ChangeConflictError("one of the two is already married")
        if _age_on(p.birth_date, change.effective_date) < MARRIAGE_MIN_AGE:
            raise ChangeConflictError(f"both must be at least {MARRIAGE_MIN_AGE} years old")
    for p, other in ((person, spouse), (spouse, person)):
        p.spouse = other
        p.spouse_name = other.surname + other.given_name
        p.marital_status = MaritalStatus.MARRIED.value
    _event(EventKind.MARRIAGE, spouse, change, at, {"spouse": person.id_number})
    return _event(EventKind.MARRIAGE, person, change, at, {"spouse": spouse.id_number})


def _end_marriage(person: Person) -> Person | None:
    """Clears the marriage on ``person`` and returns the linked spouse (locked), also cleared."""
    spouse: Person | None = None
    if person.spouse_id is not None:
        spouse = Person.objects.select_for_update().get(pk=person.spouse_id)
        spouse.spouse = None
        spouse.spouse_name = None
        spouse.marital_status = MaritalStatus.SINGLE.value
    person.spouse = None
    person.spouse_name = None
    person.marital_status = MaritalStatus.SINGLE.value
    return spouse


def _apply_divorce(change: Divorce, at: datetime, rng: Rng) -> RegistryEvent:
    (person,) = _lock(change.id_number)
    _require_registered(person)
    if person.marital_status != MaritalStatus.MARRIED.value:
        raise ChangeConflictError("the person is not married")
    spouse = _end_marriage(person)
    payload: dict[str, Any] = {"spouse": spouse.id_number if spouse is not None else None}
    if spouse is not None:
        _event(EventKind.DIVORCE, spouse, change, at, {"spouse": person.id_number})
    return _event(EventKind.DIVORCE, person, change, at, payload)


def _apply_death(change: Death, at: datetime, rng: Rng) -> RegistryEvent:
    (person,) = _lock(change.id_number)
    if PersonStatus(person.status) in (PersonStatus.DEAD, PersonStatus.DECLARED_DEAD):
        raise ChangeConflictError("the person's death is already registered")
    if change.effective_date < person.birth_date:
        raise InvalidChangeError("the date of death is before the date of birth")
    person.status = (PersonStatus.DECLARED_DEAD if change.declared else PersonStatus.DEAD).value
    person.status_date = change.effective_date
    survivor: Person | None = None
    if person.spouse_id is not None:  # the survivor is widowed; the deceased's record keeps the spouse
        survivor = Person.objects.select_for_update().get(pk=person.spouse_id)
        survivor.spouse = None
        survivor.spouse_name = None
        survivor.marital_status = MaritalStatus.SINGLE.value
        _event(EventKind.SPOUSE_DIED, survivor, change, at, {"spouse": person.id_number})
    return _event(EventKind.DEATH, person, change, at, {
        "declared": change.declared, "spouse": survivor.id_number if survivor is not None else None,
    })


def _apply_emigration(change: Emigration, at: datetime, rng: Rng) -> RegistryEvent:
    (person,) = _lock(change.id_number)
    _require_registered(person)
    person.status = PersonStatus.EMIGRATED.value
    person.status_date = change.effective_date
    return _event(EventKind.EMIGRATION, person, change, at, {"household": person.household.household_number})


def _apply_return(change: Return, at: datetime, rng: Rng) -> RegistryEvent:
    (person,) = _lock(change.id_number)
    if person.status != PersonStatus.EMIGRATED.value:
        raise ChangeConflictError("only an emigrated person can return")
    payload: dict[str, Any] = {}
    if change.to_household is not None:
        payload = _move(person, change.to_household, Relationship.OTHER, rng)
    person.status = PersonStatus.ACTIVE.value
    person.status_date = change.effective_date
    return _event(EventKind.RETURN, person, change, at, payload, person.household)


def _apply_guardianship(change: Guardianship, at: datetime, rng: Rng) -> RegistryEvent:
    (person,) = _lock(change.id_number)
    _require_registered(person)
    if person.under_guardianship == change.declared:
        raise ChangeConflictError("the guardianship is already in that state")
    person.under_guardianship = change.declared
    return _event(EventKind.GUARDIANSHIP, person, change, at, {"declared": change.declared})


def _apply_name_change(change: NameChange, at: datetime, rng: Rng) -> RegistryEvent:
    for value in (change.surname, change.given_name):
        if not value.strip() or len(value) > MAX_NAME_LENGTH or not value.isprintable():
            raise InvalidChangeError(f"names must have 1 to {MAX_NAME_LENGTH} printable characters")
    if not change.romanised_name.strip() or not change.romanised_name.isascii():
        raise InvalidChangeError("the romanised name must be non-empty ASCII")
    (person,) = _lock(change.id_number)
    _require_registered(person)
    person.surname, person.given_name = change.surname, change.given_name
    person.romanised_name = change.romanised_name
    return _event(EventKind.NAME_CHANGE, person, change, at, {})


def _apply_status_change(change: StatusChange, at: datetime, rng: Rng) -> RegistryEvent:
    if change.status not in _STATUS_CHANGE_TARGETS:
        raise InvalidChangeError("deaths and emigrations have their own changes")
    (person,) = _lock(change.id_number)
    current = PersonStatus(person.status)
    if change.status is PersonStatus.ACTIVE:
        if current not in (PersonStatus.MISSING, PersonStatus.INMATE):
            raise ChangeConflictError("only a missing person or an inmate can become active again")
    elif current is not PersonStatus.ACTIVE:
        raise ChangeConflictError("the person is not active")
    person.status = change.status.value
    person.status_date = change.effective_date
    payload = {"from": current.value, "to": change.status.value}
    return _event(EventKind.STATUS_CHANGE, person, change, at, payload)


_HANDLERS: dict[type[Any], Callable[[Any, datetime, Rng], RegistryEvent]] = {
    Move: _apply_move,
    Marriage: _apply_marriage,
    Divorce: _apply_divorce,
    Death: _apply_death,
    Emigration: _apply_emigration,
    Return: _apply_return,
    Guardianship: _apply_guardianship,
    NameChange: _apply_name_change,
    StatusChange: _apply_status_change,
}
