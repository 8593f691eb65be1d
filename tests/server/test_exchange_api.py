"""The production-centre exchange over the API (MGMT-1): blank chips and CSRs in, the production package
out, status replies in (defects and re-production included), the transfer area purged; machine-client
tokens (maker–checker, scopes, revocation, audit)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from neweid.server.accounts.approvals import do_approve
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.batching import do_apply_production_status, do_create_batches, do_send_batch
from neweid.server.cards.models import BatchStatus, Card, ProductionBatch, TransferRecord
from neweid.server.cards.states import CardState, CertificateState, DefectSource
from neweid.server.errors import AccessDeniedError, ErrorCode
from neweid.server.exchange.errors import NotEnoughBlankChipsError
from neweid.server.exchange.fileformat import (
    FileType,
    KeyMaterialRecord,
    PackageRecord,
    decode_file,
    encode_file,
)
from neweid.server.exchange.models import BlankChip, ExchangeSystem, PackageFile, PackageLine, SystemScope
from neweid.server.exchange.systems import do_register_system, do_revoke_system
from tests.server.conftest import StaffAccount, sign_in
from tests.server.test_cards_support import NOW, TODAY, World, make_application, make_person, world
from tests.server.test_exchange_support import (
    Systems,
    chip_records,
    exchange_world,
    key_material_file,
    status_file,
    systems,
)

pytestmark = pytest.mark.django_db
__all__ = ["systems", "world"]
NDJSON = "application/x-ndjson"
PRODUCTION, REGISTRY = SystemScope.PRODUCTION, SystemScope.REGISTRY


def post(client: Client, path: str, body: bytes, auth: dict[str, str]) -> Any:
    return client.post(f"/api/exchange/{path}", body, content_type=NDJSON, **auth)


def package_of(client: Client, reference: str, auth: dict[str, str]) -> tuple[PackageRecord, ...]:
    response = client.get(f"/api/exchange/production/batches/{reference}/package", **auth)
    assert response.status_code == 200 and response["Content-Type"].startswith(NDJSON)
    package = decode_file(b"".join(response.streaming_content), expect=FileType.PACKAGE)
    assert package.header.batch == reference
    return tuple(r for r in package.records if isinstance(r, PackageRecord))


def test_the_routes_are_in_the_schema(client: Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/exchange/registry/files/{file_type}", "/api/exchange/registry/notifications",
            "/api/exchange/production/batches", "/api/exchange/production/batches/{reference}/package",
            "/api/exchange/production/key-material",
            "/api/exchange/production/status"} <= set(schema["paths"])
    post_status = schema["paths"]["/api/exchange/production/status"]["post"]
    assert NDJSON in post_status["requestBody"]["content"] and post_status["security"]
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())


def test_the_production_exchange_end_to_end(client: Client, systems: Systems, world: World,
                                            office: Office) -> None:
    exchange_world(world)
    auth = systems.auth(PRODUCTION)
    people = [make_person() for _ in range(3)]
    for person in people:
        make_application(person, office)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    with pytest.raises(NotEnoughBlankChipsError):  # the centre has not sent its pre-produced chips yet
        do_send_batch(batch.pk, centre=world.centre, now=world.clock())
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CREATED and not BlankChip.objects.exists()

    chips = chip_records(3)
    assert post(client, "production/key-material", key_material_file(chips), auth).json() == {
        "received": 3, "duplicates": 0}
    assert post(client, "production/key-material", key_material_file(chips), auth).json() == {
        "received": 0, "duplicates": 3}
    do_send_batch(batch.pk, centre=world.centre, now=world.clock())
    listed = client.get("/api/exchange/production/batches", **auth).json()
    assert [b["reference"] for b in listed] == [batch.reference]

    records = package_of(client, batch.reference, auth)
    cards = {c.serial: c for c in Card.objects.filter(batch=batch).select_related("person")}
    assert [r.serial for r in records] == sorted(cards)
    assert sorted(r.chip_serial for r in records) == sorted(c.chip_serial for c in chips)
    for record in records:
        assert record.person.id_number == cards[record.serial].person.id_number
        assert base64.b64decode(record.photo_jpeg) == b"\xff\xd8\xff\xe0"
        assert record.certificate and record.reproduction_of is None and record.pickup_office == office.code
    assert world.ca.calls[0] == ("issue", tuple(sorted(cards)), "")  # certified before production

    serials = sorted(cards)
    chip_of = {r.serial: r.chip_serial for r in records}
    replies = [(serials[0], "produced"), (serials[1], "produced"), (serials[2], "defective")]
    assert post(client, "production/status", status_file(batch.reference, replies, chips=chip_of,
                                                          note="chip dead"), auth).json() == {
        "received": 3, "duplicates": 0}
    summary = do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca, now=world.clock())
    assert (summary.produced, summary.defective, summary.completed) == (2, 1, False)
    defective = Card.objects.get(serial=serials[2])
    assert defective.state == CardState.DEFECTIVE and defective.defect_source == DefectSource.PRODUCTION
    assert ("revoke", (serials[2],), "cessationOfOperation") in world.ca.calls
    assert world.ca.state_of(serials[0]) == "active"
    assert PackageLine.objects.filter(package__batch=batch).count() == 3  # still in the transfer area

    shipped = [(serials[0], "shipped"), (serials[1], "shipped"), (serials[2], "defective")]
    assert post(client, "production/status", status_file(batch.reference, shipped, shipment="S-1",
                                                          chips=chip_of, note="chip dead"), auth).json() == {
        "received": 2, "duplicates": 1}
    summary = do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca, now=world.clock())
    assert (summary.shipped, summary.completed) == (2, True)
    # Personal data and photos left the transfer area with the status replies.
    assert not TransferRecord.objects.filter(batch=batch).exists()
    assert not PackageFile.objects.exists() and not PackageLine.objects.exists()
    gone = client.get(f"/api/exchange/production/batches/{batch.reference}/package", **auth)
    assert gone.status_code == 404 and gone.json()["code"] == "X102"
    assert Card.objects.get(serial=serials[0]).certificate_state == CertificateState.ACTIVE

    # The defective card is re-made first on the next day, on a new chip; the package names the old one.
    post(client, "production/key-material", key_material_file(chip_records(1)), auth)
    (again,) = do_create_batches(TODAY + timedelta(days=1), registry=world.registry, now=world.clock())
    do_send_batch(again.pk, centre=world.centre, now=world.clock())
    (record,) = package_of(client, again.reference, auth)
    assert record.reproduction_of == serials[2] and record.defective_chip_serial == chip_of[serials[2]]
    assert record.chip_serial not in chip_of.values()


def test_status_replies_are_checked(client: Client, systems: Systems, world: World, office: Office) -> None:
    exchange_world(world)
    auth = systems.auth(PRODUCTION)
    make_application(make_person(), office)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    serial = Card.objects.get(batch=batch).serial
    early = post(client, "production/status", status_file(batch.reference, [(serial, "produced")]), auth)
    assert early.status_code == 409 and early.json()["code"] == "C202"  # not sent yet
    post(client, "production/key-material", key_material_file(chip_records(1)), auth)
    do_send_batch(batch.pk, centre=world.centre, now=world.clock())
    stranger = post(client, "production/status", status_file(batch.reference, [("ZZ0000001", "produced")]),
                    auth)
    assert stranger.status_code == 409 and stranger.json()["code"] == "X201"
    wrong_chip = post(client, "production/status",
                      status_file(batch.reference, [(serial, "defective")], chips={serial: "FFFFFFFFFF"}),
                      auth)
    assert wrong_chip.status_code == 422 and "not the card's chip" in wrong_chip.json()["message"]
    no_box = post(client, "production/status", status_file(batch.reference, [(serial, "shipped")]), auth)
    assert no_box.status_code == 422 and no_box.json()["code"] == "X101"
    tampered = status_file(batch.reference, [(serial, "produced")]).replace(b'"produced"', b'"producedX"')
    assert post(client, "production/status", tampered, auth).json()["code"] == "X101"
    wrong_type = post(client, "production/status", key_material_file(chip_records(1)), auth)
    assert wrong_type.status_code == 422
    assert "production.status file was expected" in wrong_type.json()["message"]


def test_key_material_is_checked(client: Client, systems: Systems) -> None:
    auth = systems.auth(PRODUCTION)
    (chip,) = chip_records(1)
    swapped = KeyMaterialRecord(chip.chip_serial, chip.csr_sign_ec, chip.csr_encrypt_rsa, chip.csr_sign_rsa,
                             chip.csr_encrypt_ec)
    response = post(client, "production/key-material", key_material_file([swapped]), auth)
    assert response.status_code == 422
    assert "csr_sign_rsa: the key must be rsa2048" in response.json()["message"]
    broken = KeyMaterialRecord(chip.chip_serial, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n",
                               chip.csr_encrypt_rsa, chip.csr_sign_ec, chip.csr_encrypt_ec)
    assert post(client, "production/key-material", key_material_file([broken]), auth).status_code == 422
    assert not BlankChip.objects.exists()
    post(client, "production/key-material", key_material_file([chip]), auth)
    changed = KeyMaterialRecord(chip.chip_serial, chip.csr_encrypt_rsa, chip.csr_sign_rsa, chip.csr_sign_ec,
                             chip.csr_encrypt_ec)
    response = post(client, "production/key-material", key_material_file([changed]), auth)
    assert response.status_code == 409 and response.json()["code"] == "X203"
    twice = post(client, "production/key-material", key_material_file([chip, chip]), auth)
    assert twice.status_code == 422 and "appears twice" in twice.json()["message"]


# -- machine clients ----------------------------------------------------------------------------------


def test_tokens_are_scoped_and_staff_sessions_do_not_count(client: Client, systems: Systems,
                                                            make_staff: Callable[..., StaffAccount]) -> None:
    assert client.get("/api/exchange/production/batches").status_code == 401
    assert client.get("/api/exchange/production/batches", **systems.auth(REGISTRY)).status_code == 401
    assert client.get("/api/exchange/production/batches",
                      HTTP_AUTHORIZATION="Bearer nex_not-a-token").status_code == 401
    assert client.get("/api/exchange/production/batches", **systems.auth(PRODUCTION)).status_code == 200
    sign_in(client, make_staff(Role.MOI_ADMIN))
    assert client.get("/api/exchange/production/batches").status_code == 401
    denied = AuditEntry.objects.filter(function="exchange.authenticate", result="denied")
    assert {e.actor for e in denied} == {"system:?", "system:registry-moi"}
    system = ExchangeSystem.objects.get(name="centre-1")
    assert system.last_used_at is not None and system.token_hash != systems.production_token
    stored = " ".join(str(v) for v in ExchangeSystem.objects.values_list()) + " ".join(
        str(v) for v in AuditEntry.objects.values_list("extra", "object_id"))
    assert systems.production_token not in stored and systems.registry_token not in stored


def test_registration_needs_two_administrators(make_staff: Callable[..., StaffAccount],
                                                client: Client) -> None:
    maker, other = make_staff(Role.MOI_ADMIN), make_staff(Role.MOI_ADMIN)
    with pytest.raises(AccessDeniedError):
        do_register_system("centre-2", "production", acting_user=make_staff(Role.OFFICE_SUPERVISOR).user)
    registration = do_register_system("centre-2", "production", acting_user=maker.user)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {registration.token}"}
    assert client.get("/api/exchange/production/batches", **auth).status_code == 401  # pending
    assert registration.system.approval is not None
    with pytest.raises(AccessDeniedError) as same:
        do_approve(registration.system.approval.pk, acting_user=maker.user)
    assert same.value.code is ErrorCode.SAME_PERSON
    do_approve(registration.system.approval.pk, acting_user=other.user)
    assert client.get("/api/exchange/production/batches", **auth).status_code == 200
    do_revoke_system("centre-2", acting_user=maker.user)
    assert client.get("/api/exchange/production/batches", **auth).status_code == 401
    assert "nex_" not in repr(registration) and registration.token.startswith("nex_")


@pytest.mark.parametrize("name", ["", "x", "Bad Name", "a" * 60])
def test_system_names_are_checked(make_staff: Callable[..., StaffAccount], name: str) -> None:
    from neweid.server.errors import ValidationFailedError

    with pytest.raises(ValidationFailedError):
        do_register_system(name, "registry", acting_user=make_staff(Role.MOI_ADMIN).user)


def test_every_call_is_audited_with_the_system_as_actor(client: Client, systems: Systems, world: World,
                                                        office: Office) -> None:
    exchange_world(world)
    auth = systems.auth(PRODUCTION)
    post(client, "production/key-material", key_material_file(chip_records(2)), auth)
    make_application(make_person(), office)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    do_send_batch(batch.pk, centre=world.centre, now=world.clock())
    package_of(client, batch.reference, auth)
    entries = AuditEntry.objects.filter(actor="system:centre-1").order_by("seq")
    assert [(e.function, e.result) for e in entries] == [
        ("exchange.production.key_material", "success"), ("exchange.production.package", "success")]
    assert entries[0].extra == {"chips": 2, "duplicates": 0}
    assert ProductionBatch.objects.get(pk=batch.pk).package.fetched_at is not None


def test_files_too_big_for_one_request_are_refused(client: Client, systems: Systems, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, "production/key-material", key_material_file(chip_records(2)),
                    systems.auth(PRODUCTION))
    assert response.status_code == 422 and "post it in parts" in response.json()["message"]
    empty = encode_file(FileType.KEY_MATERIAL, [], office=None, created=NOW)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_500_000
    assert post(client, "production/key-material", empty, systems.auth(PRODUCTION)).json() == {
        "received": 0, "duplicates": 0}
