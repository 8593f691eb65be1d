"""The household registration interface over the simulated registry: snapshots, changes, failures."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test.utils import CaptureQueriesContext

from neweid.formats.idnumber import generate_id_number, is_valid_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import MaritalStatus, MilitaryStatus
from neweid.population.data import counties, villages
from neweid.server.errors import ErrorCode
from neweid.server.registry.errors import (
    ChangeConflictError,
    HouseholdNotFoundError,
    InvalidChangeError,
    PersonNotFoundError,
    RegistryError,
    RegistryUnavailableError,
)
from neweid.server.registry.interface import (
    Death,
    Divorce,
    Emigration,
    Guardianship,
    HouseholdRegistry,
    Marriage,
    Move,
    NameChange,
    NewHousehold,
    Return,
    StatusChange,
)
from neweid.server.registry.models import Household, Person, RegistryEvent
from neweid.server.registry.simulated import FaultSetupError, SimulatedRegistry
from neweid.server.registry.values import EventKind, PersonStatus, Relationship

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taipei
TODAY = date(2026, 10, 1)
RARE_NAME = "𡘙美"  # a given name with a character beyond the BMP
_ids = random.Random(99)
_numbers = itertools.count(1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> SimulatedRegistry:
    return SimulatedRegistry(clock=clock, rng=random.Random(5).randbytes)


def village() -> str:
    return next(v.code for v in villages() if v.code.startswith("63000"))  # a village of Taipei


def make_household(address: str = "臺北市某區某里1鄰和平東路一段1號") -> Household:
    return Household.objects.create(household_number=f"A{next(_numbers):07d}", village_code=village(),
                                    neighbourhood=1, address=address)


def make_person(household: Household, *, sex: Sex = Sex.MALE, birth: date = date(1990, 5, 1),
                relationship: Relationship = Relationship.HEAD, **extra: object) -> Person:
    fields: dict[str, object] = {
        "id_number": generate_id_number(_ids, "A", sex), "surname": "陳", "given_name": "志明",
        "romanised_name": "CHEN, CHIH-MING", "sex": sex.value, "birth_date": birth,
        "birthplace_name": "臺北市", "birthplace_county_code": "63000",
        "marital_status": MaritalStatus.SINGLE.value,
        "military_status": (MilitaryStatus.REGULAR if sex is Sex.MALE
                            else MilitaryStatus.NOT_APPLICABLE_FEMALE).value,
        "father_name": "陳大明", "mother_name": "林美麗", "household": household,
        "relationship": relationship.value,
    }
    fields.update(extra)
    return Person.objects.create(**fields)


def test_the_simulated_registry_has_the_interface(registry: SimulatedRegistry) -> None:
    as_interface: HouseholdRegistry = registry
    assert as_interface is registry


# -- lookups ----------------------------------------------------------------------------------------------


def test_person_snapshot_is_frozen_dated_and_quiet(registry: SimulatedRegistry) -> None:
    household = make_household()
    father = make_person(household)
    child = make_person(household, sex=Sex.FEMALE, birth=date(2015, 3, 3), relationship=Relationship.CHILD,
                        given_name=RARE_NAME, father=father, father_name="陳志明", foreign_name=None)
    record = registry.person(child.id_number)
    assert record.as_of == NOW
    assert record.chinese_name == "陳" + RARE_NAME
    assert record.sex is Sex.FEMALE
    assert record.father_id_number == father.id_number and record.father_name == "陳志明"
    assert record.mother_id_number is None and record.mother_name == "林美麗"
    assert record.household.household_number == household.household_number
    assert record.household.region.county_name == "臺北市"
    assert record.household.region.village_code == household.village_code
    assert record.household.region.village_name in {v.name_zh for v in villages()}
    assert record.status is PersonStatus.ACTIVE
    assert record.relationship is Relationship.CHILD
    assert child.id_number not in repr(record) and RARE_NAME not in repr(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.surname = "林"  # type: ignore[misc]


def test_unknown_person_and_household(registry: SimulatedRegistry) -> None:
    with pytest.raises(PersonNotFoundError) as caught:
        registry.person(generate_id_number(random.Random(1)))
    assert caught.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(HouseholdNotFoundError):
        registry.household("Z9999999")
    with pytest.raises(HouseholdNotFoundError):
        registry.members("Z9999999")
    with pytest.raises(PersonNotFoundError):
        registry.events(generate_id_number(random.Random(2)))


def test_people_in_bulk_with_a_constant_number_of_queries(registry: SimulatedRegistry) -> None:
    from django.db import connection

    household = make_household()
    people = [make_person(household, relationship=Relationship.OTHER) for _ in range(60)]
    wanted = [p.id_number for p in people] + [generate_id_number(random.Random(3), "Z")]
    with CaptureQueriesContext(connection) as queries:
        found = registry.people(wanted)
    assert set(found) == {p.id_number for p in people}
    assert len(queries) == 1
    assert all(r.as_of == NOW for r in found.values())


def test_members_head_first(registry: SimulatedRegistry) -> None:
    household = make_household()
    child = make_person(household, birth=date(2010, 1, 1), relationship=Relationship.CHILD)
    head = make_person(household)
    spouse = make_person(household, sex=Sex.FEMALE, relationship=Relationship.SPOUSE)
    members = registry.members(household.household_number)
    assert [m.id_number for m in members] == [head.id_number, spouse.id_number, child.id_number]


# -- changes ----------------------------------------------------------------------------------------------


def test_move_into_an_existing_household(registry: SimulatedRegistry, clock: Clock) -> None:
    home, other = make_household(), make_household("臺北市某區某里2鄰信義路五段7號")
    person = make_person(home)
    since = NOW
    clock.advance(minutes=5)
    event = registry.apply(Move(person.id_number, TODAY, other.household_number, Relationship.OTHER))
    assert event.kind is EventKind.MOVE
    assert event.payload == {"from_household": home.household_number, "to_household": other.household_number}
    record = registry.person(person.id_number)
    assert record.household.household_number == other.household_number
    assert record.household.address == "臺北市某區某里2鄰信義路五段7號"
    assert record.relationship is Relationship.OTHER
    assert registry.changed_since(since) == (person.id_number,)
    assert registry.changed_since(clock.now) == ()
    assert [e.kind for e in registry.events(person.id_number)] == [EventKind.MOVE]


def test_move_into_a_new_household(registry: SimulatedRegistry) -> None:
    person = make_person(make_household())
    code = village()
    registry.apply(Move(person.id_number, TODAY, NewHousehold(code, 7, "臺北市某區某里7鄰民生路3號")))
    record = registry.person(person.id_number)
    assert record.relationship is Relationship.HEAD
    assert record.household.region.neighbourhood == 7
    assert record.household.household_number[0] == counties()[code[:5]].id_letter
    assert registry.household(record.household.household_number) == record.household


@pytest.mark.parametrize("target", [
    NewHousehold("00000000000", 1, "nowhere"),
    NewHousehold("VILLAGE", 1, "nowhere"),
    NewHousehold("63000010001", 0, "x"),
    NewHousehold("63000010001", 1, " "),
])
def test_move_to_a_bad_new_household_is_refused(registry: SimulatedRegistry, target: NewHousehold) -> None:
    if target.village_code == "63000010001":
        target = dataclasses.replace(target, village_code=village())
    person = make_person(make_household())
    before = Household.objects.count()
    with pytest.raises(InvalidChangeError):
        registry.apply(Move(person.id_number, TODAY, target))
    assert Household.objects.count() == before
    assert RegistryEvent.objects.count() == 0


def test_move_into_the_same_or_an_unknown_household_is_refused(registry: SimulatedRegistry) -> None:
    home = make_household()
    person = make_person(home)
    with pytest.raises(ChangeConflictError):
        registry.apply(Move(person.id_number, TODAY, home.household_number))
    with pytest.raises(HouseholdNotFoundError):
        registry.apply(Move(person.id_number, TODAY, "Z0000000"))


def test_marriage_links_spouses_and_divorce_unlinks_them(registry: SimulatedRegistry) -> None:
    household = make_household()
    groom = make_person(household)
    bride = make_person(household, sex=Sex.FEMALE, given_name=RARE_NAME, surname="林")
    event = registry.apply(Marriage(groom.id_number, TODAY, bride.id_number))
    assert event.kind is EventKind.MARRIAGE and event.payload == {"spouse": bride.id_number}
    g, b = registry.person(groom.id_number), registry.person(bride.id_number)
    assert g.marital_status is b.marital_status is MaritalStatus.MARRIED
    assert g.spouse_id_number == bride.id_number and b.spouse_id_number == groom.id_number
    assert g.spouse_name == "林" + RARE_NAME and b.spouse_name == "陳志明"
    assert [e.kind for e in registry.events(bride.id_number)] == [EventKind.MARRIAGE]

    registry.apply(Divorce(bride.id_number, TODAY))
    g, b = registry.person(groom.id_number), registry.person(bride.id_number)
    assert g.marital_status is b.marital_status is MaritalStatus.SINGLE
    assert g.spouse_id_number is b.spouse_id_number is None
    assert g.spouse_name is b.spouse_name is None
    with pytest.raises(ChangeConflictError):
        registry.apply(Divorce(bride.id_number, TODAY))


def test_marriage_rules(registry: SimulatedRegistry) -> None:
    household = make_household()
    a, b, c = (make_person(household, sex=s) for s in (Sex.MALE, Sex.FEMALE, Sex.FEMALE))
    minor = make_person(household, sex=Sex.FEMALE, birth=date(2010, 1, 1))
    with pytest.raises(InvalidChangeError):
        registry.apply(Marriage(a.id_number, TODAY, a.id_number))
    with pytest.raises(ChangeConflictError):
        registry.apply(Marriage(a.id_number, TODAY, minor.id_number))
    with pytest.raises(PersonNotFoundError):
        registry.apply(Marriage(a.id_number, TODAY, generate_id_number(random.Random(4), "Z")))
    assert registry.person(a.id_number).marital_status is MaritalStatus.SINGLE  # nothing half-applied
    registry.apply(Marriage(a.id_number, TODAY, b.id_number))
    with pytest.raises(ChangeConflictError):
        registry.apply(Marriage(c.id_number, TODAY, b.id_number))
    assert RegistryEvent.objects.count() == 2


def test_death_sets_status_and_widows_the_spouse(registry: SimulatedRegistry) -> None:
    household = make_household()
    husband, wife = make_person(household), make_person(household, sex=Sex.FEMALE)
    registry.apply(Marriage(husband.id_number, date(2020, 1, 1), wife.id_number))
    event = registry.apply(Death(husband.id_number, date(2026, 9, 30)))
    assert event.payload == {"declared": False, "spouse": wife.id_number}
    dead, widow = registry.person(husband.id_number), registry.person(wife.id_number)
    assert dead.status is PersonStatus.DEAD and dead.status_date == date(2026, 9, 30)
    assert widow.marital_status is MaritalStatus.SINGLE and widow.spouse_id_number is None
    assert [e.kind for e in registry.events(wife.id_number)] == [EventKind.MARRIAGE, EventKind.SPOUSE_DIED]
    with pytest.raises(ChangeConflictError):
        registry.apply(Death(husband.id_number, TODAY))
    with pytest.raises(ChangeConflictError):  # the dead do not move, marry or emigrate
        registry.apply(Move(husband.id_number, TODAY, NewHousehold(village(), 1, "某路1號")))
    with pytest.raises(ChangeConflictError):
        registry.apply(Emigration(husband.id_number, TODAY))


def test_declared_death(registry: SimulatedRegistry) -> None:
    person = make_person(make_household())
    registry.apply(StatusChange(person.id_number, date(2019, 1, 1), PersonStatus.MISSING))
    registry.apply(Death(person.id_number, TODAY, declared=True))
    assert registry.person(person.id_number).status is PersonStatus.DECLARED_DEAD


def test_emigration_and_return(registry: SimulatedRegistry) -> None:
    home = make_household()
    person = make_person(home)
    with pytest.raises(ChangeConflictError):
        registry.apply(Return(person.id_number, TODAY))
    registry.apply(Emigration(person.id_number, date(2026, 1, 1)))
    record = registry.person(person.id_number)
    assert record.status is PersonStatus.EMIGRATED and not record.status.is_registered
    assert record.household.household_number == home.household_number  # the last household is kept
    registry.apply(Return(person.id_number, TODAY, NewHousehold(village(), 3, "臺北市某區某里3鄰中山路9號")))
    record = registry.person(person.id_number)
    assert record.status is PersonStatus.ACTIVE and record.household.household_number != home.household_number


def test_guardianship_name_and_status_changes(registry: SimulatedRegistry) -> None:
    person = make_person(make_household())
    registry.apply(Guardianship(person.id_number, TODAY, declared=True))
    assert registry.person(person.id_number).under_guardianship
    with pytest.raises(ChangeConflictError):
        registry.apply(Guardianship(person.id_number, TODAY, declared=True))
    registry.apply(NameChange(person.id_number, TODAY, "陳", RARE_NAME, "CHEN, MEI"))
    assert registry.person(person.id_number).given_name == RARE_NAME
    with pytest.raises(InvalidChangeError):
        registry.apply(NameChange(person.id_number, TODAY, "", "x", "X"))
    registry.apply(StatusChange(person.id_number, TODAY, PersonStatus.INMATE))
    with pytest.raises(ChangeConflictError):
        registry.apply(StatusChange(person.id_number, TODAY, PersonStatus.MISSING))
    registry.apply(StatusChange(person.id_number, TODAY, PersonStatus.ACTIVE))
    with pytest.raises(InvalidChangeError):
        registry.apply(StatusChange(person.id_number, TODAY, PersonStatus.DEAD))
    kinds = [e.kind for e in registry.events(person.id_number)]
    assert kinds == [EventKind.GUARDIANSHIP, EventKind.NAME_CHANGE, EventKind.STATUS_CHANGE,
                     EventKind.STATUS_CHANGE]


@pytest.mark.parametrize("make_change", [
    lambda n: Emigration(n, TODAY + timedelta(days=1)),  # not yet happened
    lambda n: Emigration("A123456788", TODAY),  # bad check digit
    lambda n: Death(n, date(1900, 1, 1)),  # before birth
])
def test_malformed_changes_are_refused(registry: SimulatedRegistry,
                                       make_change: Callable[[str], Emigration | Death]) -> None:
    person = make_person(make_household())
    assert is_valid_id_number(person.id_number)
    with pytest.raises(InvalidChangeError) as caught:
        registry.apply(make_change(person.id_number))
    assert caught.value.code is ErrorCode.VALIDATION
    assert registry.person(person.id_number).status is PersonStatus.ACTIVE


def test_a_naive_recording_time_is_refused() -> None:
    person = make_person(make_household())
    naive = SimulatedRegistry(clock=lambda: datetime(2026, 10, 1, 10, 0))  # noqa: DTZ001 - on purpose
    with pytest.raises(InvalidChangeError):
        naive.apply(Emigration(person.id_number, TODAY))


# -- failures of the external system ----------------------------------------------------------------------


def test_outage_makes_every_call_fail_without_side_effects(registry: SimulatedRegistry) -> None:
    household = make_household()
    person = make_person(household)
    calls: list[Callable[[], object]] = [
        lambda: registry.person(person.id_number),
        lambda: registry.people([person.id_number]),
        lambda: registry.household(household.household_number),
        lambda: registry.members(household.household_number),
        lambda: registry.changed_since(NOW),
        lambda: registry.events(person.id_number),
        lambda: registry.apply(Emigration(person.id_number, TODAY)),
    ]
    with registry.faults.outage():
        for call in calls:
            with pytest.raises(RegistryUnavailableError) as caught:
                call()
            assert caught.value.code is ErrorCode.UNAVAILABLE
            assert isinstance(caught.value, RegistryError)
    assert registry.person(person.id_number).status is PersonStatus.ACTIVE
    assert RegistryEvent.objects.count() == 0


def test_the_next_calls_fail_then_the_registry_answers(registry: SimulatedRegistry) -> None:
    person = make_person(make_household())
    registry.faults.fail_next(2)
    for _ in range(2):
        with pytest.raises(RegistryUnavailableError):
            registry.person(person.id_number)
    assert registry.person(person.id_number).id_number == person.id_number
    registry.faults.go_down()
    with pytest.raises(RegistryUnavailableError):
        registry.person(person.id_number)
    registry.faults.come_up()
    assert registry.person(person.id_number).status is PersonStatus.ACTIVE
    with pytest.raises(FaultSetupError):
        registry.faults.fail_next(-1)
