"""`neweid cards batch|poll|export|systems`: the daily production run and the exchange files from cron."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from neweid.cli import cards
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.cards.models import BatchStatus, Card, ProductionBatch
from neweid.server.exchange.fileformat import FileType, decode_file
from neweid.server.exchange.inbound import do_receive_status
from neweid.server.exchange.models import ExchangeSystem, SystemStatus
from tests.server.conftest import StaffAccount
from tests.server.test_cards_support import make_application, make_person
from tests.server.test_exchange_support import Systems, status_file, stock_chips, systems

pytestmark = pytest.mark.django_db
__all__ = ["systems"]
runner = CliRunner()
DAY = "2026-10-01"


@pytest.fixture
def exchange_centre(settings: Any) -> None:
    settings.NEWEID_PRODUCTION_CENTRE = "neweid.server.exchange.centre.ExchangeProductionCentre"


def test_batch_send_poll_and_export(exchange_centre: None, systems: Systems, office: Office,
                                    tmp_path: Path) -> None:
    for _ in range(2):
        make_application(make_person(), office)
    result = runner.invoke(cards.app, ["batch", "--date", DAY])
    assert result.exit_code == 1
    assert "2 cards" in result.output and "not sent: X202" in result.output
    assert "error: 1 of 1 batch(es) not sent" in result.output
    stock_chips(systems.production, 2)
    result = runner.invoke(cards.app, ["batch", "--date", DAY])  # cron runs again: sends what is pending
    assert result.exit_code == 0, result.output
    batch = ProductionBatch.objects.get()
    assert f"{batch.reference}: sent (2 cards)" in result.output and batch.status == BatchStatus.SENT

    out = tmp_path / "package.jsonl"
    result = runner.invoke(cards.app, ["export", "--type", "production.package", "--batch", batch.reference,
                                       "--out", str(out)])
    assert result.exit_code == 0 and "2 record(s)" in result.output
    assert decode_file(out.read_bytes(), expect=FileType.PACKAGE).header.count == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: owner only

    serials = list(Card.objects.filter(batch=batch).values_list("serial", flat=True))
    do_receive_status(decode_file(status_file(batch.reference, [(s, "shipped") for s in serials],
                                              shipment="S-1")), system=systems.production)
    result = runner.invoke(cards.app, ["poll"])
    assert result.exit_code == 0, result.output
    assert f"{batch.reference}: produced 2, defective 0, shipped 2" in result.output
    assert "completed (transfer area purged)" in result.output
    result = runner.invoke(cards.app, ["export", "--type", "production.package", "--batch", batch.reference,
                                       "--out", str(out)])
    assert result.exit_code == 1 and "X102" in result.output
    assert "no batch in production" in runner.invoke(cards.app, ["poll"]).output

    accepted = tmp_path / "accepted.jsonl"
    result = runner.invoke(cards.app, ["export", "--type", "registry.accepted", "--office", office.code,
                                       "--date", DAY, "--out", str(accepted)])
    assert result.exit_code == 0 and "2 record(s)" in result.output
    assert len(decode_file(accepted.read_bytes(), expect=FileType.ACCEPTED).records) == 2


@pytest.mark.parametrize(("arguments", "message"), [
    (["--type", "registry.nothing"], "unknown file type"),
    (["--type", "registry.accepted"], "give --office"),
    (["--type", "production.package"], "give --batch"),
    (["--type", "production.status"], "not exported"),
    (["--type", "registry.accepted", "--office", "0000000000"], "E404"),
])
def test_export_errors_are_one_line(arguments: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(cards.app, ["export", *arguments, "--out", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.jsonl").exists()


def test_systems_maker_checker(make_staff: Callable[..., StaffAccount]) -> None:
    maker, checker = make_staff(Role.MOI_ADMIN), make_staff(Role.MOI_ADMIN)
    result = runner.invoke(cards.app, ["systems", "add", "registry-north", "--scope", "registry",
                                       "--maker", maker.username])
    assert result.exit_code == 0, result.output
    token = result.output.split("token (shown once): ")[1].strip()
    system = ExchangeSystem.objects.get(name="registry-north")
    assert system.status == SystemStatus.PENDING and token.startswith("nex_")
    own = runner.invoke(cards.app, ["systems", "approve", str(system.approval_id),
                                    "--checker", maker.username])
    assert own.exit_code == 1 and "A011" in own.output
    result = runner.invoke(cards.app, ["systems", "approve", str(system.approval_id),
                                       "--checker", checker.username])
    assert result.exit_code == 0 and ExchangeSystem.objects.get(pk=system.pk).status == SystemStatus.ACTIVE
    listed = runner.invoke(cards.app, ["systems", "list"]).output
    assert "registry-north" in listed and "active" in listed and token not in listed
    revoked = runner.invoke(cards.app, ["systems", "revoke", "registry-north", "--by", maker.username])
    assert revoked.exit_code == 0
    assert ExchangeSystem.objects.get(pk=system.pk).status == SystemStatus.REVOKED
    assert "no active staff account" in runner.invoke(
        cards.app, ["systems", "revoke", "registry-north", "--by", "nobody"]).output
