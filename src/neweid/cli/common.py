"""Helpers shared by the CLI commands: paths, errors, presentation of zone data."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from neweid.formats.dates import format_minguo, format_western
from neweid.formats.zones import HouseholdZone, PublicZone
from neweid.pki.errors import PkiError
from neweid.pki.testpki import TestPki

T = TypeVar("T")


def neweid_home() -> Path:
    """Where commands keep their data unless told otherwise: $NEWEID_HOME or ~/.neweid."""
    return Path(os.environ.get("NEWEID_HOME", Path.home() / ".neweid"))


def default_pki_dir() -> Path:
    return neweid_home() / "pki"


PkiOption = Annotated[Path | None, typer.Option("--pki", help="test PKI directory (default ~/.neweid/pki)")]


def open_pki(directory: Path | None) -> TestPki:
    """The test PKI in ``directory`` (created on first use)."""
    try:
        return TestPki.open_or_create(directory or default_pki_dir(), now=utc_now())
    except PkiError as exc:
        fail(str(exc))


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and a non-zero exit: what users see instead of a traceback."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _date(d: datetime.date | None) -> dict[str, str] | None:
    if d is None:
        return None
    return {"iso": d.isoformat(), "minguo": format_minguo(d), "western": format_western(d)}


def household_json(zone: HouseholdZone) -> dict[str, Any]:
    r = zone.region
    return {
        "county": {"code": r.county_code, "name": r.county_name},
        "township": {"code": r.township_code, "name": r.township_name},
        "village": {"code": r.village_code, "name": r.village_name},
        "neighbourhood": r.neighbourhood,
    }


def public_json(zone: PublicZone) -> dict[str, Any]:
    return {
        "name": {"chinese": zone.name.chinese_name, "romanised": zone.name.romanised_name,
                 "foreign": zone.name.foreign_name},
        "id_number": zone.id_number.id_number,
        "birth_date": _date(zone.birth_date.date),
        "address": zone.address.address,
        "village_code": zone.address.village_code,
        "marital_status": {"code": zone.marital_status.status.value,
                           "zh": zone.marital_status.status.label_zh,
                           "en": zone.marital_status.status.label_en},
        "military_service": {"code": zone.military_service.status.value,
                             "zh": zone.military_service.status.label_zh,
                             "en": zone.military_service.status.label_en},
        "card_serial": zone.card_serial.serial,
        "renewal_date": _date(zone.renewal_date.date),
        "issue_date": _date(zone.issue_date.date),
        "photo": {"format": "JPEG", "bytes": len(zone.photo.jpeg)},
    }
