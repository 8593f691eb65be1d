"""One production day on PostgreSQL: N applications (default 45,000) through apply → verify → batch →
produced → shipped → received → QC → notified → issued; prints total and per-stage seconds and queries,
and writes them to /tmp/bench_production_day.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/neweid_bench_cards \
        .venv/bin/python scripts/bench_production_day.py [--applications N] [--keep]

The database named by DATABASE_URL is dropped and created afresh (refused unless its name contains
"bench"). Applications and issuances are per citizen (one do_* action each: a citizen at a counter);
every other stage is set-based (one action per batch, office or shipment).
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

OFFICES = 6
REPORT = Path("/tmp/bench_production_day.md")


def prepare_database(url: str) -> None:
    import psycopg

    name = urlparse(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop {name!r}: the benchmark database's name must contain 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Stages:
    seconds: dict[str, float] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    _count: int = 0

    def counter(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self._count += 1
        return execute(sql, params, many, context)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        from django.db import connection

        self._count = 0
        start = time.perf_counter()
        with connection.execute_wrapper(self.counter):
            yield
        self.seconds[name] = time.perf_counter() - start
        self.queries[name] = self._count
        print(f"{name:>10}: {self.seconds[name]:9.2f} s  {self._count:>9,} queries", flush=True)


def jpeg_photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (826, 1062), (200, 200, 200)).save(buffer, format="JPEG", quality=30)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=45_000)
    parser.add_argument("--keep", action="store_true", help="do not recreate the database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database whose name contains 'bench'")
    if not args.keep:
        prepare_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "neweid.server.settings")
    os.environ.setdefault("NEWEID_HOME", "/tmp/neweid_bench_home")
    import django

    django.setup()
    run(args.applications, url)


def run(n: int, url: str) -> None:
    from django.core.management import call_command
    from django.utils import timezone

    from neweid.server.accounts.actions import (
        OfficeSpec,
        create_office_unaudited,
        create_staff_unaudited,
        grant_role_unaudited,
    )
    from neweid.server.accounts.roles import Role
    from neweid.server.applications.actions import do_submit_application, do_verify_applications
    from neweid.server.applications.models import Channel, Kind
    from neweid.server.applications.rules import ApplicationInput
    from neweid.server.cards.batching import do_apply_production_status, do_create_batches, do_send_batch
    from neweid.server.cards.ca import SimulatedCitizenCa
    from neweid.server.cards.issuance import IssuanceChecks, do_issue_card
    from neweid.server.cards.models import Card, Collector, ProductionBatch
    from neweid.server.cards.notify import SimulatedNotifier
    from neweid.server.cards.office import do_notify_cards, do_quality_check, do_receive_cards
    from neweid.server.cards.production import SimulatedProductionCentre
    from neweid.server.cards.states import CardState
    from neweid.server.registry.loader import generator_for, load_population
    from neweid.server.registry.models import Person
    from neweid.server.registry.simulated import SimulatedRegistry
    from neweid.server.registry.values import PersonStatus

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    print(f"population for {n:,} applications ...", flush=True)
    load_population(generator_for(random.Random(2026), today=today), int(n * 1.6) + 1000)
    adult_born_before = today.replace(year=today.year - 15)
    people = list(Person.objects.filter(status=PersonStatus.ACTIVE, birth_date__lt=adult_born_before,
                                        under_guardianship=False)
                  .order_by("pk").values_list("id_number", flat=True)[:n])
    if len(people) < n:
        sys.exit(f"only {len(people)} adults were generated")
    townships = ["63000050", "63000010", "10002010", "65000010", "66000010", "64000010"][:OFFICES]
    offices, clerks = [], []
    for index, township in enumerate(townships):
        office = create_office_unaudited(OfficeSpec(f"{township}{index:02d}", f"戶政事務所{index}",
                                                    f"Office {index}", township))
        clerk = create_staff_unaudited(f"bench_clerk_{index}", "Bench-Clerk-Pass-42!", office=office)
        grant_role_unaudited(clerk, Role.OFFICE_CLERK)
        offices.append(office)
        clerks.append(clerk)
    setup = time.perf_counter() - started
    print(f"setup (migrate, population, offices): {setup:.1f} s", flush=True)

    registry = SimulatedRegistry()
    centre = SimulatedProductionCentre(defect_rate=0.0, seed=1)
    ca = SimulatedCitizenCa()
    notifier = SimulatedNotifier()
    photo = jpeg_photo()
    stages = Stages()
    with stages.stage("apply"):
        for index, id_number in enumerate(people):
            do_submit_application(ApplicationInput(id_number=id_number, channel=Channel.COUNTER,
                                                   kind=Kind.NATIONWIDE_REPLACEMENT, photo=photo,
                                                   contact_email="citizen@example.org"),
                                  acting_user=clerks[index % OFFICES], registry=registry)
    with stages.stage("verify"):
        from neweid.server.applications.models import Application

        for office, clerk in zip(offices, clerks, strict=True):
            ids = list(Application.objects.filter(office=office).values_list("pk", flat=True))
            do_verify_applications(ids, acting_user=clerk)
    with stages.stage("batch"):
        batches = do_create_batches(today, registry=registry)
    with stages.stage("produced"):
        for batch in batches:
            do_send_batch(batch.pk, centre=centre)
            do_apply_production_status(batch.pk, centre=centre, ca=ca)
    with stages.stage("shipped"):
        for batch in batches:
            do_apply_production_status(batch.pk, centre=centre, ca=ca)
    with stages.stage("received"):
        for office, clerk in zip(offices, clerks, strict=True):
            for shipment in set(Card.objects.filter(pickup_office=office, state=CardState.SHIPPED)
                                .values_list("shipment", flat=True)):
                do_receive_cards(office, acting_user=clerk, shipment=shipment)
    with stages.stage("qc"):
        for office, clerk in zip(offices, clerks, strict=True):
            serials = list(Card.objects.filter(pickup_office=office, state=CardState.RECEIVED)
                           .values_list("serial", flat=True))
            do_quality_check(office, acting_user=clerk, registry=registry, ca=ca, passed=serials)
    with stages.stage("notified"):
        for office, clerk in zip(offices, clerks, strict=True):
            do_notify_cards(office, acting_user=clerk, notifier=notifier)
    with stages.stage("issued"):
        checks = IssuanceChecks(documents_checked=True, collector=Collector.SELF)
        for office, clerk in zip(offices, clerks, strict=True):
            for serial in list(Card.objects.filter(pickup_office=office, state=CardState.NOTIFIED)
                               .values_list("serial", flat=True)):
                do_issue_card(serial, office=office, checks=checks, acting_user=clerk, registry=registry,
                              ca=ca)
    issued = Card.objects.filter(state=CardState.ISSUED).count()
    total = sum(stages.seconds.values())
    batches_made = ProductionBatch.objects.count()
    print(f"{'total':>10}: {total:9.2f} s  ({issued:,} cards issued, {batches_made} batches)")
    write_report(n, issued, total, setup, stages, url)


def write_report(n: int, issued: int, total: float, setup: float, stages: Stages, url: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    lines = [
        "# One production day (scripts/bench_production_day.py)",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {version}",
        f"- command: `DATABASE_URL=postgres://…/{urlparse(url).path.lstrip('/')} "
        f".venv/bin/python scripts/bench_production_day.py --applications {n}`",
        f"- {n:,} applications, {issued:,} cards issued; setup (migrate, population, offices) {setup:.1f} s "
        "(not counted)",
        "",
        "| stage | seconds | queries | queries per card | how |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    how = {"apply": "one do_submit_application per citizen (counter)",
           "verify": "one do_verify_applications per office",
           "batch": "one do_create_batches (capacity 45,000, files of 5,000)",
           "produced": "do_send_batch + status reply per batch",
           "shipped": "status reply per batch", "received": "one do_receive_cards per shipment",
           "qc": "one do_quality_check per office", "notified": "one do_notify_cards per office",
           "issued": "one do_issue_card per citizen (counter)"}
    for name, seconds in stages.seconds.items():
        queries = stages.queries[name]
        lines.append(f"| {name} | {seconds:.2f} | {queries:,} | {queries / max(n, 1):.3f} | {how[name]} |")
    lines.append(f"| **total** | **{total:.2f}** | {sum(stages.queries.values()):,} | | |")
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"written to {REPORT}")


if __name__ == "__main__":
    main()
