"""Helpers shared by the exchange tests (no tests here): blank chips with real CSRs, status files, machine
clients registered through maker–checker, and a world whose production centre is the exchange API."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from neweid.server.accounts.approvals import do_approve
from neweid.server.accounts.roles import Role
from neweid.server.exchange.centre import ExchangeProductionCentre
from neweid.server.exchange.fileformat import FileType, KeyMaterialRecord, StatusRecord, encode_file
from neweid.server.exchange.inbound import do_receive_key_material
from neweid.server.exchange.models import ExchangeSystem, SystemScope
from neweid.server.exchange.systems import do_register_system
from tests.server.conftest import StaffAccount
from tests.server.test_cards_support import NOW, World
from tests.test_ca_support import csr_for, ec_key, rsa_key

_chips = itertools.count(0x1000)


@functools.cache
def csrs() -> tuple[str, str, str, str]:
    """CSRs of four keys as a chip makes them: sign RSA, encrypt RSA, sign P-521, encrypt P-521."""
    return tuple(csr_for(key).decode("ascii") for key in (rsa_key(10), rsa_key(11), ec_key(10), ec_key(11)))  # type: ignore[return-value]


def chip_records(count: int) -> list[KeyMaterialRecord]:
    return [KeyMaterialRecord(f"{next(_chips):010X}", *csrs()) for _ in range(count)]


def key_material_file(records: Sequence[KeyMaterialRecord]) -> bytes:
    return encode_file(FileType.KEY_MATERIAL, list(records), office=None, created=NOW)


def status_file(batch: str, statuses: Sequence[tuple[str, str]], *, shipment: str = "",
                chips: dict[str, str] | None = None, note: str = "") -> bytes:
    records = [StatusRecord(serial, outcome, shipment if outcome == "shipped" else "",
                            (chips or {}).get(serial, ""), note if outcome == "defective" else "")
               for serial, outcome in statuses]
    return encode_file(FileType.STATUS, records, office=None, created=NOW, batch=batch)


@dataclass
class Systems:
    registry: ExchangeSystem
    registry_token: str
    production: ExchangeSystem
    production_token: str
    maker: StaffAccount
    checker: StaffAccount

    def auth(self, scope: SystemScope) -> dict[str, str]:
        token = self.registry_token if scope is SystemScope.REGISTRY else self.production_token
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def systems(make_staff: Callable[..., StaffAccount]) -> Systems:
    maker, checker = make_staff(Role.MOI_ADMIN), make_staff(Role.MOI_ADMIN)
    made = {}
    for name, scope in (("registry-moi", SystemScope.REGISTRY), ("centre-1", SystemScope.PRODUCTION)):
        registration = do_register_system(name, scope, acting_user=maker.user)
        assert registration.system.approval is not None
        do_approve(registration.system.approval.pk, acting_user=checker.user)
        registration.system.refresh_from_db()
        made[scope] = registration
    return Systems(made[SystemScope.REGISTRY].system, made[SystemScope.REGISTRY].token,
                   made[SystemScope.PRODUCTION].system, made[SystemScope.PRODUCTION].token, maker, checker)


def stock_chips(system: ExchangeSystem, count: int) -> list[KeyMaterialRecord]:
    records = chip_records(count)
    from neweid.server.exchange.fileformat import decode_file

    do_receive_key_material(decode_file(key_material_file(records)), system=system)
    return records


def exchange_world(world: World, ca: Any = None) -> World:
    """The world with the exchange API as production centre (and ``ca`` as citizen CA if given)."""
    if ca is not None:
        world.ca = ca
    world.centre = ExchangeProductionCentre(ca=lambda: world.ca, clock=world.clock)  # type: ignore[assignment]
    return world


__all__ = ["Systems", "chip_records", "csrs", "exchange_world", "key_material_file", "status_file",
           "stock_chips", "systems"]
