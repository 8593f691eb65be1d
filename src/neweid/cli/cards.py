"""`neweid cards ...`: the daily production run and the MGMT-1 exchange files, for operators and cron.

* ``batch [--date D]`` — batch the day's production and send every batch not yet sent;
* ``poll`` — apply the production centre's status replies to every batch in production;
* ``export --type T [--office O] [--date D] [--batch B] --out FILE`` — write an exchange file;
* ``process-notifications [--limit N]`` — follow up the registry's change notifications (voiding requests,
  certificate revocations, chip-update flags);
* ``systems add|approve|revoke|list`` — the machine clients of the exchange API (maker–checker).

Each command prints one line per batch or file; errors are one line on stderr and exit status 1.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress

from neweid.cli.common import fail
from neweid.cli.server import migrate_if_needed, setup_django

app = typer.Typer(no_args_is_help=True, help="production batches and MGMT-1 exchange files")
systems_app = typer.Typer(no_args_is_help=True, help="machine clients of the exchange API")
app.add_typer(systems_app, name="systems")
TAIPEI = ZoneInfo("Asia/Taipei")

DateOption = Annotated[datetime.datetime | None, typer.Option("--date", formats=["%Y-%m-%d"],
                                                              help="day (YYYY-MM-DD; default today, Taipei)")]


def _day(value: datetime.datetime | None) -> datetime.date:
    return value.date() if value is not None else datetime.datetime.now(TAIPEI).date()


def _ready() -> None:
    setup_django()
    migrate_if_needed()


def _staff(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        fail(f"no active staff account {username!r}")
    return user


def _message(exc: Exception) -> str:
    from neweid.server.errors import ServerError

    if isinstance(exc, ServerError):
        return f"{exc.code.value} {exc.message}"
    return str(exc) or type(exc).__name__


@app.command("batch")
def batch(date: DateOption = None) -> None:
    """Batch the day's verified applications (capacity and batch size from the settings) and send every
    batch not yet sent to the production centre."""
    _ready()
    from neweid.server.cards.batching import do_create_batches, do_send_batch
    from neweid.server.cards.models import BatchStatus, ProductionBatch
    from neweid.server.cards.production import get_production_centre
    from neweid.server.errors import ServerError
    from neweid.server.registry.wiring import household_registry

    day = _day(date)
    console = Console(soft_wrap=True)  # one line per batch, also in cron logs
    try:
        created = do_create_batches(day, registry=household_registry())
    except ServerError as exc:
        fail(f"batching {day.isoformat()}: {_message(exc)}")
    console.print(f"{day.isoformat()}: {len(created)} new batch(es), {sum(b.size for b in created)} cards")
    pending = list(ProductionBatch.objects.filter(status=BatchStatus.CREATED).values_list("pk", "reference"))
    centre, failed = get_production_centre(), 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("sending", total=len(pending))
        for pk, reference in pending:
            try:
                sent = do_send_batch(pk, centre=centre)
                console.print(f"{reference}: sent ({sent.size} cards)")
            except ServerError as exc:
                failed += 1
                console.print(f"{reference}: not sent: {_message(exc)}", style="red", highlight=False)
            progress.advance(task)
    if failed:
        fail(f"{failed} of {len(pending)} batch(es) not sent; run again to retry")


@app.command("poll")
def poll() -> None:
    """Apply the production centre's status replies to every batch in production."""
    _ready()
    from neweid.server.cards.batching import do_apply_production_status
    from neweid.server.cards.ca import get_citizen_ca
    from neweid.server.cards.models import BatchStatus, ProductionBatch
    from neweid.server.cards.production import get_production_centre
    from neweid.server.errors import ServerError

    console = Console(soft_wrap=True)  # one line per batch, also in cron logs
    batches = list(ProductionBatch.objects.filter(status__in=(BatchStatus.SENT, BatchStatus.PRODUCED))
                   .values_list("pk", "reference"))
    centre, failed = get_production_centre(), 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("polling", total=len(batches))
        for pk, reference in batches:
            try:
                s = do_apply_production_status(pk, centre=centre, ca=get_citizen_ca())
                done = ", completed (transfer area purged)" if s.completed else ""
                console.print(f"{reference}: produced {s.produced}, defective {s.defective}, shipped "
                              f"{s.shipped}, certificates {s.certificates}{done}", highlight=False)
            except ServerError as exc:
                failed += 1
                console.print(f"{reference}: {_message(exc)}", style="red", highlight=False)
            progress.advance(task)
    if not batches:
        console.print("no batch in production")
    if failed:
        fail(f"{failed} of {len(batches)} batch(es) could not be updated; run again to retry")


@app.command("export")
def export(file_type: Annotated[str, typer.Option("--type", help="file type, e.g. registry.accepted or "
                                                                   "production.package")],
           out: Annotated[Path, typer.Option("--out", help="file to write (JSON Lines)")],
           office: Annotated[str | None, typer.Option(help="office code (registry.* lists)")] = None,
           date: DateOption = None,
           batch: Annotated[str | None, typer.Option(help="batch reference (production.package)")] = None,
           ) -> None:
    """Write one exchange file (docs/exchange-formats.md)."""
    _ready()
    from django.utils import timezone

    from neweid.server.errors import ServerError
    from neweid.server.exchange.centre import package_stream
    from neweid.server.exchange.fileformat import FileType
    from neweid.server.exchange.lists import REGISTRY_LISTS, registry_list

    try:
        kind = FileType(file_type)
    except ValueError:
        fail(f"unknown file type {file_type!r}; one of: {', '.join(t.value for t in FileType)}")
    try:
        if kind in REGISTRY_LISTS:
            if office is None:
                fail(f"{kind.value} is per office: give --office")
            data = registry_list(kind, office, _day(date), now=timezone.now())
            count = data.count(b"\n") - 1
        elif kind is FileType.PACKAGE:
            if batch is None:
                fail("production.package is per batch: give --batch")
            package, lines = package_stream(batch, now=timezone.now())
            data, count = b"".join(lines), package.count
        else:
            fail(f"{kind.value} files come from the other system; they are not exported")
    except ServerError as exc:
        fail(_message(exc))
    _write_private(out, data)
    typer.echo(f"{kind.value}: {count} record(s) written to {out}")


@app.command("process-notifications")
def process_notifications(limit: Annotated[int, typer.Option(min=1, help="notifications per run, oldest "
                                                                       "first")] = 50_000) -> None:
    """Follow up the household registration system's change notifications: voiding requests for cards not
    yet issued (death, emigration...), certificates revoked, chip updates flagged."""
    _ready()
    from neweid.server.errors import ServerError
    from neweid.server.exchange.followup import do_process_notifications

    try:
        summary = do_process_notifications(limit=limit)
    except ServerError as exc:
        fail(f"notifications not processed: {_message(exc)}")
    typer.echo(summary.line())
    for request in summary.voiding_requests:
        typer.echo(f"voiding request {request}: waiting for an office supervisor's approval")


def _write_private(path: Path, data: bytes) -> None:
    """Exchange files may hold personal data: readable by the owner only (mode 0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


# -- machine clients -------------------------------------------------------------------------------------


@systems_app.command("add")
def systems_add(name: Annotated[str, typer.Argument(help="system name, e.g. registry-moi")],
                scope: Annotated[str, typer.Option(help="registry or production")],
                maker: Annotated[str, typer.Option(help="username of the MOI administrator asking")]) -> None:
    """Register a machine client; prints its API token once. It works after a second administrator
    approves (`neweid cards systems approve`)."""
    _ready()
    from neweid.server.errors import ServerError
    from neweid.server.exchange.systems import do_register_system

    try:
        registration = do_register_system(name, scope, acting_user=_staff(maker))
    except ServerError as exc:
        fail(_message(exc))
    approval = registration.system.approval_id
    typer.echo(f"system {name} ({scope}) registered, waiting for approval request {approval}")
    typer.echo(f"token (shown once): {registration.token}")


@systems_app.command("approve")
def systems_approve(request: Annotated[int, typer.Argument(help="approval request number")],
                    checker: Annotated[str, typer.Option(help="username of the second administrator")],
                    ) -> None:
    """Approve a registration: the system's token starts to work."""
    _ready()
    from neweid.server.accounts.approvals import do_approve
    from neweid.server.errors import ServerError

    try:
        done = do_approve(request, acting_user=_staff(checker))
    except ServerError as exc:
        fail(_message(exc))
    typer.echo(f"approved: {done.result}")


@systems_app.command("revoke")
def systems_revoke(name: str, by: Annotated[str, typer.Option(help="username of the administrator")]) -> None:
    """Stop a system's token at once."""
    _ready()
    from neweid.server.errors import ServerError
    from neweid.server.exchange.systems import do_revoke_system

    try:
        do_revoke_system(name, acting_user=_staff(by))
    except ServerError as exc:
        fail(_message(exc))
    typer.echo(f"system {name} revoked")


@systems_app.command("list")
def systems_list() -> None:
    """The registered systems (never their tokens)."""
    _ready()
    from neweid.server.exchange.models import ExchangeSystem

    for system in ExchangeSystem.objects.all():
        last = system.last_used_at.isoformat() if system.last_used_at else "-"
        typer.echo(f"{system.name:<24} {system.scope:<10} {system.status:<8} {system.token_prefix}…  "
                   f"last used {last}")
