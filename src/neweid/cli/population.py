"""`neweid population generate`: fill the simulated household registration system with synthetic people.

The database is the server's (DATABASE_URL, default SQLite in $NEWEID_HOME); it is migrated first if
needed. PostgreSQL is written with COPY, other databases with bulk inserts, in batches of ``--batch``
people. A register that already holds people is left alone unless ``--append`` or ``--reset`` says what to
do with them.
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from neweid.cli.common import fail

app = typer.Typer(no_args_is_help=True, help="the synthetic population of the household registration system")

TAIPEI = ZoneInfo("Asia/Taipei")


@app.callback()
def population() -> None:
    """The synthetic population of the simulated household registration system (戶役政)."""


def setup_django() -> None:
    """Configure Django with the server's settings and apply pending migrations."""
    from neweid.cli import server

    server.setup_django()
    server.migrate_if_needed()


def _parse_day(text: str | None) -> date:
    if text is None:
        return datetime.now(TAIPEI).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--today must be a date YYYY-MM-DD, got {text!r}")


@app.command()
def generate(
    people: Annotated[int, typer.Option("--people", "-n", min=1, help="how many people to create")],
    seed: Annotated[int | None, typer.Option(help="random seed (default: a random one, shown)")] = None,
    batch: Annotated[int, typer.Option(min=1, help="people per transaction")] = 50_000,
    append: Annotated[bool, typer.Option(help="add to the people already registered")] = False,
    reset: Annotated[bool, typer.Option(help="remove the people already registered first")] = False,
    today: Annotated[str | None, typer.Option(help="reference date for ages (default: today)")] = None,
    method: Annotated[str | None, typer.Option("--method", help="copy (PostgreSQL) or bulk_create",
                                               hidden=True)] = None,
) -> None:
    """Create PEOPLE synthetic people in households across Taiwan's real villages."""
    if append and reset:
        fail("--append and --reset cannot be used together")
    day = _parse_day(today)
    setup_django()
    from neweid.server.registry import loader

    write_method = None
    if method is not None:
        try:
            write_method = loader.WriteMethod(method)
        except ValueError:
            fail("--method must be copy or bulk_create")
    existing = loader.existing_population()
    if existing.people and not (append or reset):
        fail(f"the household register already holds {existing.people} people; use --append to add to them "
             "or --reset to replace them")
    if reset and existing.people + existing.households:
        try:
            loader.reset_population()
        except loader.PopulationLoadError as exc:
            fail(str(exc))
    if seed is None:
        seed = secrets.randbelow(2**32)
    console = Console(stderr=True)
    console.print(f"seed {seed}: generating {people} people (reference date {day.isoformat()})")
    generator = loader.generator_for(random.Random(seed), today=day)  # noqa: S311 - synthetic data
    started = time.perf_counter()
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("people", total=people)
        try:
            written = loader.load_population(generator, people, batch_size=batch, method=write_method,
                                             progress=lambda n: progress.advance(task, n))
        except loader.PopulationLoadError as exc:
            fail(str(exc))
    elapsed = time.perf_counter() - started
    after = loader.existing_population()
    typer.echo(f"{written} people written in {elapsed:.1f} s; the register holds {after.people} people in "
               f"{after.households} households")
