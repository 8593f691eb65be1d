"""The synthetic population of the simulated household registration system: generator, loader, CLI."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from neweid.cli import population as population_cli
from neweid.formats.idnumber import is_valid_id_number
from neweid.population.data import counties, villages
from neweid.population.errors import PopulationError
from neweid.population.validity import age_on
from neweid.server.registry import loader
from neweid.server.registry.models import Household, Person
from neweid.server.registry.synthesis import HouseholdRow, PersonRow, PopulationGenerator
from neweid.server.registry.values import PersonStatus, Relationship

TODAY = date(2026, 9, 1)
SEED = 20260901


def generate(people: int, seed: int = SEED, batch: int = 1000) -> tuple[list[HouseholdRow], list[PersonRow]]:
    generator = PopulationGenerator(random.Random(seed), today=TODAY)
    households: list[HouseholdRow] = []
    persons: list[PersonRow] = []
    for b in generator.batches(people, batch):
        households.extend(b.households)
        persons.extend(b.people)
    return households, persons


@pytest.fixture(scope="module")
def sample() -> tuple[list[HouseholdRow], list[PersonRow]]:
    return generate(6000)


# -- the generator (no database) -------------------------------------------------------------------------


def test_exact_count_and_contiguous_keys(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    households, people = sample
    assert len(people) == 6000
    assert [p.pk for p in people] == list(range(1, 6001))
    assert [h.pk for h in households] == list(range(1, len(households) + 1))
    assert 2.2 < len(people) / len(households) < 3.0  # Taiwan: about 2.6 people per household


def test_id_numbers_valid_unique_and_sex_digit(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    _, people = sample
    numbers = [p.id_number for p in people]
    assert len(set(numbers)) == len(numbers)
    assert all(is_valid_id_number(n) for n in numbers)
    assert all(n[1] == ("1" if p.sex == "M" else "2") for n, p in zip(numbers, people, strict=True))


def test_households_in_real_villages(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    households, _ = sample
    known = {v.code: v.name_zh for v in villages()}
    letters = {c.code: c.id_letter for c in counties().values()}
    numbers = [h.household_number for h in households]
    assert len(set(numbers)) == len(numbers)
    for h in households:
        assert h.village_code in known
        assert known[h.village_code] in h.address
        assert re.fullmatch(r"[A-Z][0-9]{7}", h.household_number)
        assert h.household_number[0] == letters[h.village_code[:5]]
        assert f"{h.neighbourhood}鄰" in h.address


def test_every_household_has_one_head_first(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    households, people = sample
    heads = Counter(p.household_pk for p in people if p.relationship == Relationship.HEAD.value)
    assert set(heads) == {h.pk for h in households}
    assert set(heads.values()) == {1}
    first_member: dict[int, PersonRow] = {}
    for p in people:
        first_member.setdefault(p.household_pk, p)
    assert all(p.relationship == Relationship.HEAD.value for p in first_member.values())


def test_parents_older_than_children(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    _, people = sample
    by_pk = {p.pk: p for p in people}
    links = 0
    for child in people:
        for parent_pk, name in ((child.father_pk, child.father_name), (child.mother_pk, child.mother_name)):
            if parent_pk is None:
                continue
            parent = by_pk[parent_pk]
            links += 1
            assert age_on(parent.birth_date, child.birth_date) >= 17
            assert parent.household_pk == child.household_pk
            assert name == parent.surname + parent.given_name
        if child.father_pk is not None:
            assert by_pk[child.father_pk].sex == "M"
            assert child.surname == by_pk[child.father_pk].surname
        if child.mother_pk is not None:
            assert by_pk[child.mother_pk].sex == "F"
    assert links > 1000


def test_spouses_both_married_and_linked(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    _, people = sample
    by_pk = {p.pk: p for p in people}
    couples = 0
    for p in people:
        if p.spouse_pk is None:
            continue
        spouse = by_pk[p.spouse_pk]
        couples += 1
        assert spouse.spouse_pk == p.pk
        assert p.marital_status == spouse.marital_status == "M"
        assert p.spouse_name == spouse.surname + spouse.given_name
        assert age_on(p.birth_date, TODAY) >= 18
    assert couples > 1000
    single_with_spouse_name = [p for p in people if p.marital_status == "S" and p.spouse_name is not None]
    assert single_with_spouse_name == []


def test_population_variety(sample: tuple[list[HouseholdRow], list[PersonRow]]) -> None:
    _, people = sample
    names = "".join(p.surname + p.given_name for p in people)
    assert any(ord(c) > 0xFFFF for c in names)  # rare characters beyond the BMP (CARD-1)
    assert any(p.foreign_name for p in people)
    assert any(p.naturalised for p in people)
    assert any(p.birthplace_county_code is None for p in people)
    assert any(p.under_guardianship for p in people)
    statuses = Counter(p.status for p in people)
    assert statuses[PersonStatus.ACTIVE.value] > 0.98 * len(people)
    assert set(statuses) <= {s.value for s in PersonStatus}
    assert {p.relationship for p in people} == {r.value for r in Relationship} - {Relationship.OTHER.value}
    assert any(p.phone for p in people) and any(p.email for p in people)
    assert all(p.email is None or p.email.endswith("@example.org") for p in people)


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    assert generate(300) == generate(300)
    assert generate(300, batch=7) == generate(300)  # batching does not change the rows
    assert generate(300)[1] != generate(300, seed=SEED + 1)[1]


def test_colliding_id_number_is_redrawn() -> None:
    first = generate(1)[1][0]
    generator = PopulationGenerator(random.Random(SEED), today=TODAY, used_id_numbers={first.id_number})
    (batch,) = generator.batches(1)
    (person,) = batch.people
    assert person.id_number != first.id_number
    assert is_valid_id_number(person.id_number)
    assert person.id_number[:2] == first.id_number[:2]  # same county letter and sex


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.integers(min_value=1, max_value=40), seed=st.integers(min_value=0, max_value=2**32),
       batch=st.integers(min_value=1, max_value=50))
def test_any_size_is_exact_and_links_stay_inside(people: int, seed: int, batch: int) -> None:
    households, persons = generate(people, seed, batch)
    assert len(persons) == people
    pks = {p.pk for p in persons}
    household_pks = {h.pk for h in households}
    for p in persons:
        assert p.household_pk in household_pks
        for link in (p.father_pk, p.mother_pk, p.spouse_pk):
            assert link is None or link in pks


@pytest.mark.parametrize(("people", "batch"), [(-1, 10), (10, 0)])
def test_bad_sizes_are_refused(people: int, batch: int) -> None:
    generator = PopulationGenerator(random.Random(1), today=TODAY)
    with pytest.raises(PopulationError):
        list(generator.batches(people, batch))


# -- writing to the database ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loaded_rows_are_the_generated_rows() -> None:
    """The database's own path (COPY on PostgreSQL, bulk_create on SQLite) stores exactly the generated
    rows, so both databases hold the same rows for the same seed."""
    expected_households, expected_people = generate(700)
    generator = loader.generator_for(random.Random(SEED), today=TODAY)
    assert loader.load_population(generator, 700, batch_size=250) == 700
    assert loader.stored_households() == expected_households
    assert loader.stored_people() == expected_people


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(people=st.integers(min_value=1, max_value=60), seed=st.integers(min_value=0, max_value=2**32),
       batch=st.integers(min_value=1, max_value=25))
def test_any_population_round_trips_through_the_database(people: int, seed: int, batch: int) -> None:
    loader.reset_population()
    expected_households, expected_people = generate(people, seed)
    loader.load_population(loader.generator_for(random.Random(seed), today=TODAY), people, batch_size=batch)
    assert loader.stored_households() == expected_households
    assert loader.stored_people() == expected_people


@pytest.mark.django_db
def test_copy_and_bulk_create_store_the_same_rows() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY is the PostgreSQL path; on SQLite the bulk path is checked against the generator")
    rows = {}
    for method in loader.WriteMethod:
        loader.reset_population()
        generator = loader.generator_for(random.Random(SEED), today=TODAY)
        loader.load_population(generator, 400, batch_size=150, method=method)
        rows[method] = (loader.stored_households(), loader.stored_people())
    assert rows[loader.WriteMethod.COPY] == rows[loader.WriteMethod.BULK_CREATE]
    assert len(rows[loader.WriteMethod.COPY][1]) == 400


@pytest.mark.django_db
def test_copy_is_refused_outside_postgresql() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL supports COPY")
    generator = loader.generator_for(random.Random(SEED), today=TODAY)
    with pytest.raises(loader.PopulationLoadError):
        loader.load_population(generator, 5, method=loader.WriteMethod.COPY)


@pytest.mark.django_db
def test_append_continues_keys_and_numbers_and_the_orm_can_insert_after() -> None:
    loader.load_population(loader.generator_for(random.Random(1), today=TODAY), 300)
    loader.load_population(loader.generator_for(random.Random(1), today=TODAY), 200)  # same seed on purpose
    people = loader.stored_people()
    assert len(people) == 500
    assert [p.pk for p in people] == list(range(1, 501))
    assert len({p.id_number for p in people}) == 500
    assert Household.objects.values("household_number").distinct().count() == Household.objects.count()
    village = loader.stored_households()[0].village_code
    created = Household.objects.create(household_number="A0000000", village_code=village, neighbourhood=1,
                                       address="test")
    assert created.pk == Household.objects.count()  # the sequence moved past the loaded keys


@pytest.mark.django_db
def test_reset_removes_everything() -> None:
    loader.load_population(loader.generator_for(random.Random(2), today=TODAY), 120)
    loader.reset_population()
    assert (Person.objects.count(), Household.objects.count()) == (0, 0)
    assert loader.existing_population().next_person_pk == 1


@pytest.mark.django_db
def test_rare_characters_survive_the_database() -> None:
    loader.load_population(loader.generator_for(random.Random(SEED), today=TODAY), 3000, batch_size=1000)
    stored = list(Person.objects.values_list("given_name", flat=True))
    beyond_bmp = [n for n in stored if any(ord(c) > 0xFFFF for c in n)]
    assert beyond_bmp
    assert Person.objects.filter(given_name=beyond_bmp[0]).exists()


# -- the command ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cli_generate_refuses_existing_data_then_appends_and_resets() -> None:
    runner = CliRunner()
    base = ["generate", "--people", "150", "--seed", "3", "--today", "2026-09-01", "--batch", "60"]
    result = runner.invoke(population_cli.app, base)
    assert result.exit_code == 0, result.output
    assert "150 people written" in result.output
    assert Person.objects.count() == 150

    again = runner.invoke(population_cli.app, base)
    assert again.exit_code == 1
    assert "already holds 150 people" in again.output
    assert "--append" in again.output and "--reset" in again.output
    assert Person.objects.count() == 150

    appended = runner.invoke(population_cli.app, [*base, "--append"])
    assert appended.exit_code == 0, appended.output
    assert Person.objects.count() == 300

    reset = runner.invoke(population_cli.app, [*base, "--reset"])
    assert reset.exit_code == 0, reset.output
    assert Person.objects.count() == 150
    assert loader.stored_people() == generate(150, seed=3)[1]


@pytest.mark.django_db
@pytest.mark.parametrize(("extra", "message"), [
    (["--append", "--reset"], "cannot be used together"),
    (["--today", "1 Sept"], "YYYY-MM-DD"),
    (["--method", "carrier-pigeon"], "--method"),
])
def test_cli_generate_rejects_bad_options(extra: list[str], message: str) -> None:
    result = CliRunner().invoke(population_cli.app, ["generate", "--people", "5", *extra])
    assert result.exit_code != 0
    assert message in result.output
    assert Person.objects.count() == 0


def test_cli_rejects_zero_people() -> None:
    result = CliRunner().invoke(population_cli.app, ["generate", "--people", "0"])
    assert result.exit_code == 2
