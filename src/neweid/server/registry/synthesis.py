"""A synthetic population for the simulated household registration system, drawn without Django.

Households are drawn by kind (one person, couple, couple with children, single parent, three generations)
with roughly Taiwan's shares; every member is a :func:`neweid.population.synthetic.generate_citizen` person
adapted to the household: one address and village per household, spouses married to each other, children
carrying their father's surname and their parents' names, parents at least 18 years older than their
children, grandparents linked to the head. ID numbers and household numbers are unique across the
population (and against the numbers passed in, for ``--append``): a collision is redrawn.

Rows carry their primary keys so that foreign keys (household, father, mother, spouse) are known before the
rows are written; :mod:`neweid.server.registry.loader` writes them set-based. Everything is drawn from one
``random.Random``: a seed gives the same rows.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from neweid.formats.idnumber import generate_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import MaritalStatus
from neweid.population.data import counties
from neweid.population.errors import PopulationError
from neweid.population.names import draw_given_name, draw_other_surname
from neweid.population.romanise import romanise_name
from neweid.population.synthetic import MAX_AGE, Citizen, draw_age, generate_citizen
from neweid.server.registry.values import PersonStatus, Relationship

ADULT_AGE = 20
MIN_PARENT_AGE_GAP = 18
MAX_MOTHER_AGE_AT_BIRTH = 45
DRAW_ATTEMPTS = 30
HOUSEHOLD_NUMBER_DIGITS = 7

# Shares of households by kind, roughly Taiwan's 2020 census (average size about 2.6 people).
HOUSEHOLD_KIND_WEIGHTS: dict[str, float] = {
    "single": 32.0, "couple": 20.0, "nuclear": 27.0, "single_parent": 10.0, "three_generation": 11.0,
}
CHILDREN_WEIGHTS: tuple[float, ...] = (0.0, 40.0, 45.0, 15.0)  # index = number of children
MALE_HEAD_PROBABILITY = 0.75
SAME_SEX_COUPLE_PROBABILITY = 0.01
BOTH_GRANDPARENTS_PROBABILITY = 0.6

GUARDIANSHIP_PROBABILITY = 0.002
GUARDIANSHIP_PROBABILITY_80_PLUS = 0.02
INMATE_PROBABILITY = 0.0025  # adults 18-70
MISSING_PROBABILITY = 0.0003
EMIGRATED_PROBABILITY = 0.003
PHONE_PROBABILITY = 0.4
EMAIL_PROBABILITY = 0.3
CONTACT_DOMAIN = "example.org"  # reserved for documentation (RFC 2606): no real mailbox


class HouseholdKind(Enum):
    SINGLE = "single"
    COUPLE = "couple"
    NUCLEAR = "nuclear"
    SINGLE_PARENT = "single_parent"
    THREE_GENERATION = "three_generation"


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    pk: int
    household_number: str
    village_code: str
    neighbourhood: int
    address: str


@dataclass(frozen=True, slots=True)
class PersonRow:
    """One person as stored; codes are the plain string values of the enums."""

    pk: int
    id_number: str
    surname: str
    given_name: str
    romanised_name: str
    foreign_name: str | None
    naturalised: bool
    sex: str
    birth_date: date
    birthplace_name: str
    birthplace_county_code: str | None
    marital_status: str
    military_status: str
    father_pk: int | None
    father_name: str | None
    mother_pk: int | None
    mother_name: str | None
    spouse_pk: int | None
    spouse_name: str | None
    under_guardianship: bool
    status: str
    household_pk: int
    relationship: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Batch:
    households: tuple[HouseholdRow, ...]
    people: tuple[PersonRow, ...]


@dataclass
class _Member:
    """A household member being drawn; links are indices into the household's member list."""

    citizen: Citizen
    relationship: Relationship
    father: int | None = None
    mother: int | None = None
    spouse: int | None = None


@dataclass
class _Draft:
    members: list[_Member] = field(default_factory=list)

    def add(self, member: _Member) -> int:
        self.members.append(member)
        return len(self.members) - 1


class PopulationGenerator:
    """Draws households and their members; keeps the used ID and household numbers and the next keys."""

    def __init__(self, rng: random.Random, *, today: date, used_id_numbers: set[str] | None = None,
                 used_household_numbers: set[str] | None = None, first_person_pk: int = 1,
                 first_household_pk: int = 1) -> None:
        self._rng = rng
        self._today = today
        self._used_ids = used_id_numbers if used_id_numbers is not None else set()
        self._used_households = used_household_numbers if used_household_numbers is not None else set()
        self._next_person_pk = first_person_pk
        self._next_household_pk = first_household_pk
        kinds = list(HOUSEHOLD_KIND_WEIGHTS)
        self._kinds = tuple(HouseholdKind(k) for k in kinds)
        self._kind_weights = tuple(HOUSEHOLD_KIND_WEIGHTS[k] for k in kinds)

    def batches(self, people: int, batch_size: int = 50_000) -> Iterator[Batch]:
        """Exactly ``people`` people in whole households, about ``batch_size`` people per batch."""
        if people < 0 or batch_size < 1:
            raise PopulationError("people must be >= 0 and batch_size >= 1")
        remaining = people
        households: list[HouseholdRow] = []
        persons: list[PersonRow] = []
        while remaining > 0:
            draft = self._draw_household()
            if len(draft.members) > remaining:
                draft = self._single(self._adult())
            household, members = self._commit(draft)
            households.append(household)
            persons.extend(members)
            remaining -= len(members)
            if len(persons) >= batch_size:
                yield Batch(tuple(households), tuple(persons))
                households, persons = [], []
        if persons:
            yield Batch(tuple(households), tuple(persons))

    # -- drawing households ---------------------------------------------------------------------------

    def _draw_household(self) -> _Draft:
        kind = self._rng.choices(self._kinds, weights=self._kind_weights)[0]
        if kind is HouseholdKind.SINGLE:
            return self._single(self._adult())
        if kind is HouseholdKind.SINGLE_PARENT:
            return self._single_parent()
        with_children = kind is not HouseholdKind.COUPLE
        if kind is HouseholdKind.THREE_GENERATION:
            draft, head = self._couple(self._adult(30, 60), with_children=True)
            self._add_grandparents(draft, head)
            return draft
        return self._couple(self._adult(), with_children=with_children)[0]

    def _citizen(self, age: int, sex: Sex | None = None, *, allow_naturalised: bool = True) -> Citizen:
        citizen = generate_citizen(self._rng, today=self._today, age=age)
        for _ in range(DRAW_ATTEMPTS):
            if (sex is None or citizen.sex is sex) and (allow_naturalised or not citizen.naturalised):
                break
            citizen = generate_citizen(self._rng, today=self._today, age=age)
        return citizen

    def _adult(self, low: int = ADULT_AGE, high: int = MAX_AGE, sex: Sex | None = None) -> Citizen:
        age = draw_age(self._rng)
        for _ in range(DRAW_ATTEMPTS):
            if low <= age <= high:
                break
            age = draw_age(self._rng)
        else:
            age = self._rng.randint(low, high)
        return self._citizen(age, sex)

    def _single(self, head: Citizen) -> _Draft:
        draft = _Draft()
        draft.add(_Member(head, Relationship.HEAD))
        return draft

    def _couple(self, head: Citizen, *, with_children: bool) -> tuple[_Draft, int]:
        rng = self._rng
        if rng.random() < MALE_HEAD_PROBABILITY and head.sex is not Sex.MALE:
            head = self._citizen(head.age, Sex.MALE)
        same_sex = rng.random() < SAME_SEX_COUPLE_PROBABILITY
        spouse_sex = head.sex if same_sex else (Sex.FEMALE if head.sex is Sex.MALE else Sex.MALE)
        spouse_age = min(MAX_AGE, max(ADULT_AGE, head.age + rng.randint(-6, 6)))
        spouse = self._citizen(spouse_age, spouse_sex)
        head = _married(head, spouse)
        spouse = _married(spouse, head)
        draft = _Draft()
        h = draft.add(_Member(head, Relationship.HEAD))
        s = draft.add(_Member(spouse, Relationship.SPOUSE))
        draft.members[h].spouse = s
        draft.members[s].spouse = h
        if with_children and not same_sex:
            father, mother = (h, s) if head.sex is Sex.MALE else (s, h)
            self._add_children(draft, father, mother)
        return draft, h

    def _single_parent(self) -> _Draft:
        rng = self._rng
        head = self._adult(25, 60)
        head = dataclasses.replace(head, marital_status=MaritalStatus.SINGLE, spouse_name=None)
        draft = self._single(head)
        other = Sex.FEMALE if head.sex is Sex.MALE else Sex.MALE
        absent_surname = draw_other_surname(rng, head.surname)
        absent = absent_surname + draw_given_name(rng, other)
        if head.sex is Sex.MALE:
            self._add_children(draft, 0, None, absent_name=absent)
        else:
            self._add_children(draft, None, 0, absent_name=absent, surname=absent_surname)
        return draft

    def _add_children(self, draft: _Draft, father: int | None, mother: int | None, *,
                      absent_name: str | None = None, surname: str | None = None) -> None:
        rng = self._rng
        parents = [draft.members[i].citizen for i in (father, mother) if i is not None]
        youngest = min(p.age for p in parents)
        oldest_child = youngest - MIN_PARENT_AGE_GAP
        if oldest_child < 0:
            return
        youngest_child = max(0, youngest - MAX_MOTHER_AGE_AT_BIRTH)
        if youngest_child > oldest_child:
            return
        count = rng.choices(range(len(CHILDREN_WEIGHTS)), weights=CHILDREN_WEIGHTS)[0]
        father_name = draft.members[father].citizen.chinese_name if father is not None else absent_name
        mother_name = draft.members[mother].citizen.chinese_name if mother is not None else absent_name
        if surname is None:
            surname = draft.members[father].citizen.surname if father is not None else parents[0].surname
        for _ in range(count):
            child = self._citizen(rng.randint(youngest_child, oldest_child), allow_naturalised=False)
            romanised = romanise_name(surname, child.given_name, child.romanisation)
            child = dataclasses.replace(
                child, surname=surname, romanised_name=romanised,
                foreign_name=None, naturalised=False, father_name=father_name or child.father_name,
                mother_name=mother_name or child.mother_name,
            )
            draft.add(_Member(child, Relationship.CHILD, father=father, mother=mother))

    def _add_grandparents(self, draft: _Draft, head_index: int) -> None:
        rng = self._rng
        head = draft.members[head_index].citizen
        if head.age + MIN_PARENT_AGE_GAP + 4 > MAX_AGE:
            return
        both = rng.random() < BOTH_GRANDPARENTS_PROBABILITY
        grandfather: Citizen | None = None
        grandmother: Citizen | None = None
        if both or rng.random() < 0.3:
            age = min(MAX_AGE, head.age + rng.randint(MIN_PARENT_AGE_GAP + 4, 38))
            grandfather = self._citizen(age, Sex.MALE, allow_naturalised=False)
            grandfather = dataclasses.replace(
                grandfather, surname=head.surname,
                romanised_name=romanise_name(head.surname, grandfather.given_name, grandfather.romanisation),
                marital_status=MaritalStatus.SINGLE, spouse_name=None,
            )
        if both or grandfather is None:
            age = min(MAX_AGE, head.age + rng.randint(MIN_PARENT_AGE_GAP + 2, MAX_MOTHER_AGE_AT_BIRTH))
            grandmother = self._citizen(age, Sex.FEMALE, allow_naturalised=False)
            grandmother = dataclasses.replace(grandmother, marital_status=MaritalStatus.SINGLE,
                                              spouse_name=None)
        if grandfather is not None and grandmother is not None:
            grandfather, grandmother = _married(grandfather, grandmother), _married(grandmother, grandfather)
        g = m = None
        if grandfather is not None:
            g = draft.add(_Member(grandfather, Relationship.PARENT))
        if grandmother is not None:
            m = draft.add(_Member(grandmother, Relationship.PARENT))
        if g is not None and m is not None:
            draft.members[g].spouse = m
            draft.members[m].spouse = g
        member = draft.members[head_index]
        member.citizen = dataclasses.replace(
            head,
            father_name=grandfather.chinese_name if grandfather is not None else head.father_name,
            mother_name=grandmother.chinese_name if grandmother is not None else head.mother_name,
        )
        member.father, member.mother = g, m

    # -- turning a drawn household into rows ----------------------------------------------------------

    def _unique_id_number(self, citizen: Citizen) -> str:
        number = citizen.id_number
        while number in self._used_ids:
            number = generate_id_number(self._rng, number[0], citizen.sex)
        self._used_ids.add(number)
        return number

    def _household_number(self, county_code: str) -> str:
        letter = counties()[county_code].id_letter
        while True:
            digits = self._rng.randrange(10**HOUSEHOLD_NUMBER_DIGITS)
            number = f"{letter}{digits:0{HOUSEHOLD_NUMBER_DIGITS}d}"
            if number not in self._used_households:
                self._used_households.add(number)
                return number

    def _commit(self, draft: _Draft) -> tuple[HouseholdRow, list[PersonRow]]:
        rng = self._rng
        head = draft.members[0].citizen
        region = head.household
        household = HouseholdRow(self._next_household_pk, self._household_number(region.county_code),
                                 region.village_code, region.neighbourhood, head.address)
        self._next_household_pk += 1
        first = self._next_person_pk
        self._next_person_pk += len(draft.members)

        def pk(index: int | None) -> int | None:
            return None if index is None else first + index

        rows: list[PersonRow] = []
        for index, member in enumerate(draft.members):
            c = member.citizen
            status = PersonStatus.ACTIVE
            guardianship = False
            email = phone = None
            if c.age >= 18:
                roll = rng.random()
                if roll < EMIGRATED_PROBABILITY:
                    status = PersonStatus.EMIGRATED
                elif roll < EMIGRATED_PROBABILITY + MISSING_PROBABILITY:
                    status = PersonStatus.MISSING
                elif c.age <= 70 and roll < EMIGRATED_PROBABILITY + MISSING_PROBABILITY + INMATE_PROBABILITY:
                    status = PersonStatus.INMATE
                guardianship = rng.random() < (GUARDIANSHIP_PROBABILITY_80_PLUS if c.age >= 80
                                               else GUARDIANSHIP_PROBABILITY)
                if rng.random() < PHONE_PROBABILITY:
                    phone = f"09{rng.randrange(10 ** 8):08d}"
                if rng.random() < EMAIL_PROBABILITY:
                    email = f"person{first + index}@{CONTACT_DOMAIN}"
            rows.append(PersonRow(
                pk=first + index,
                id_number=self._unique_id_number(c),
                surname=c.surname,
                given_name=c.given_name,
                romanised_name=c.romanised_name,
                foreign_name=c.foreign_name,
                naturalised=c.naturalised,
                sex=c.sex.value,
                birth_date=c.birth_date,
                birthplace_name=c.birthplace.name,
                birthplace_county_code=c.birthplace.county_code,
                marital_status=c.marital_status.value,
                military_status=c.military_status.value,
                father_pk=pk(member.father),
                father_name=c.father_name,
                mother_pk=pk(member.mother),
                mother_name=c.mother_name,
                spouse_pk=pk(member.spouse),
                spouse_name=c.spouse_name,
                under_guardianship=guardianship,
                status=status.value,
                household_pk=household.pk,
                relationship=member.relationship.value,
                email=email,
                phone=phone,
            ))
        return household, rows


def _married(person: Citizen, spouse: Citizen) -> Citizen:
    return dataclasses.replace(person, marital_status=MaritalStatus.MARRIED, spouse_name=spouse.chinese_name)

