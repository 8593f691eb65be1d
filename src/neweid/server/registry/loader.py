"""Set-based writing of a generated population: PostgreSQL COPY, or ``bulk_create`` in batches elsewhere.

Rows arrive with their primary keys (:mod:`neweid.server.registry.synthesis`), so one pass writes households
and people with all their links; each batch is one transaction (a batch never splits a household, and the
foreign keys are checked at commit). After loading, the primary-key sequences are moved past the keys
written, so that later inserts through the ORM do not collide.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date
from enum import Enum
from typing import Any

from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.db.models import Max, Model

from neweid.server.registry.models import Household, Person, RegistryEvent
from neweid.server.registry.synthesis import Batch, HouseholdRow, PersonRow, PopulationGenerator

logger = logging.getLogger(__name__)

# Row field -> model column, in the rows' field order.
HOUSEHOLD_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (f.name, "id" if f.name == "pk" else f.name) for f in fields(HouseholdRow))
PERSON_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (f.name, "id" if f.name == "pk" else f.name.removesuffix("_pk") + "_id" if f.name.endswith("_pk")
     else f.name) for f in fields(PersonRow))


class WriteMethod(Enum):
    COPY = "copy"  # PostgreSQL only
    BULK_CREATE = "bulk_create"


class PopulationLoadError(Exception):
    """The population cannot be written or removed (with the reason, no personal data)."""


@dataclass(frozen=True)
class ExistingPopulation:
    people: int
    households: int
    next_person_pk: int
    next_household_pk: int


def default_method() -> WriteMethod:
    return WriteMethod.COPY if connection.vendor == "postgresql" else WriteMethod.BULK_CREATE


def existing_population() -> ExistingPopulation:
    person_max = Person.objects.aggregate(m=Max("pk"))["m"] or 0
    household_max = Household.objects.aggregate(m=Max("pk"))["m"] or 0
    return ExistingPopulation(Person.objects.count(), Household.objects.count(), person_max + 1,
                              household_max + 1)


def generator_for(rng: random.Random, *, today: date) -> PopulationGenerator:
    """A generator that continues the stored population: it avoids the ID numbers, household numbers and
    keys already in the database (so it serves a fresh load and ``--append`` alike)."""
    existing = existing_population()
    return PopulationGenerator(
        rng, today=today,
        used_id_numbers=set(Person.objects.values_list("id_number", flat=True).iterator(chunk_size=50_000)),
        used_household_numbers=set(
            Household.objects.values_list("household_number", flat=True).iterator(chunk_size=50_000)),
        first_person_pk=existing.next_person_pk, first_household_pk=existing.next_household_pk,
    )


def _values(row: Any, columns: tuple[tuple[str, str], ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name, _ in columns)


def _copy(model: type[Model], columns: tuple[tuple[str, str], ...], rows: Iterable[Any]) -> None:
    names = ", ".join(connection.ops.quote_name(column) for _, column in columns)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper, same connection and transaction
        with raw.copy(statement) as copy:
            for row in rows:
                copy.write_row(_values(row, columns))


def _bulk_create(model: type[Model], columns: tuple[tuple[str, str], ...], rows: Iterable[Any]) -> None:
    objects = [model(**{column: getattr(row, name) for name, column in columns}) for row in rows]
    model._default_manager.bulk_create(objects)


def write_batch(batch: Batch, method: WriteMethod) -> None:
    """One batch in one transaction."""
    if method is WriteMethod.COPY and connection.vendor != "postgresql":
        raise PopulationLoadError("COPY needs PostgreSQL")
    write = _copy if method is WriteMethod.COPY else _bulk_create
    with transaction.atomic():
        write(Household, HOUSEHOLD_COLUMNS, batch.households)
        write(Person, PERSON_COLUMNS, batch.people)


def reset_sequences() -> None:
    """Move the key sequences past the highest keys (PostgreSQL; nothing to do on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Household, Person, RegistryEvent])
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def load_population(generator: PopulationGenerator, people: int, *, batch_size: int = 50_000,
                    method: WriteMethod | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write ``people`` generated people; ``progress`` is told how many were written after each batch."""
    method = method or default_method()
    written = 0
    try:
        for batch in generator.batches(people, batch_size):
            write_batch(batch, method)
            written += len(batch.people)
            if progress is not None:
                progress(len(batch.people))
    finally:
        if written:
            reset_sequences()
    logger.info("population written: %d people by %s", written, method.value)
    return written


def reset_population() -> None:
    """Remove every person, household and registry event; refused if other records still refer to them."""
    tables = [connection.ops.quote_name(m._meta.db_table) for m in (RegistryEvent, Person, Household)]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                try:  # fastest; refused when other tables have foreign keys to these, even empty ones
                    with transaction.atomic():
                        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
                    return
                except DatabaseError:
                    logger.info("TRUNCATE refused; deleting the registry rows instead")
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - table names from the models
    except DatabaseError as exc:
        raise PopulationLoadError(
            "the population cannot be removed while other records (applications, cards...) refer to it"
        ) from exc


def stored_people() -> list[PersonRow]:
    """Every stored person as a row, by key (for checks and exports; loads the whole table)."""
    names = [column for _, column in PERSON_COLUMNS]
    return [PersonRow(*values) for values in Person.objects.order_by("pk").values_list(*names)]


def stored_households() -> list[HouseholdRow]:
    names = [column for _, column in HOUSEHOLD_COLUMNS]
    return [HouseholdRow(*values) for values in Household.objects.order_by("pk").values_list(*names)]
