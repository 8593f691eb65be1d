"""The household registration exchange (MGMT-1): the per-office lists of a day, each from a real event of
the management system, and the registry's change notifications."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.actions import do_cancel_application
from neweid.server.applications.models import Application, Kind, ReplacementReason, Status
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.batching import do_create_batches
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState, VoidReason
from neweid.server.cards.transitions import transition
from neweid.server.exchange.fileformat import (
    RECORD_TYPES,
    FileType,
    NotificationRecord,
    Record,
    decode_file,
    encode_file,
)
from neweid.server.exchange.lists import REGISTRY_LISTS, registry_list
from neweid.server.exchange.models import RegistryNotification, SystemScope
from neweid.server.operations.loss import do_report_loss, do_revoke_loss
from neweid.server.operations.models import LossChannel
from neweid.server.registry.interface import Emigration
from tests.server.conftest import StaffAccount
from tests.server.test_cards_support import NOW, TODAY, World, card_of, make_application, make_person, world
from tests.server.test_exchange_support import Systems, systems

pytestmark = pytest.mark.django_db
__all__ = ["systems", "world"]
_TO_ISSUED = (CardState.RECEIVED, CardState.QC_PASSED, CardState.NOTIFIED, CardState.ISSUED)


def lists(client: Client, systems: Systems, office: Office, day: date = TODAY) -> dict[FileType, list[Any]]:
    found = {}
    for file_type in sorted(REGISTRY_LISTS):
        response = client.get(f"/api/exchange/registry/files/{file_type.value}",
                              {"office": office.code, "date": day.isoformat()},
                              **systems.auth(SystemScope.REGISTRY))
        assert response.status_code == 200, response.content
        file = decode_file(b"".join(response.streaming_content), expect=file_type)
        assert file.header.office == office.code
        found[file_type] = list(file.records)
    return found


@pytest.fixture
def day_of_events(world: World, office: Office, make_staff: Callable[..., StaffAccount]) -> dict[str, Any]:
    """One office's day: production, a failure, a withdrawal, a face change, a defect, an issuance, a loss
    reported and revoked, and a voided card."""
    clerk = make_staff(Role.OFFICE_CLERK).user
    produced = [make_application(make_person(), office, kind=Kind.FIRST_ISSUANCE) for _ in range(3)]
    emigrant = make_application(make_person(), office)
    world.registry.apply(Emigration(emigrant.person.id_number, TODAY))
    withdrawn = make_application(make_person(), office)
    do_cancel_application(withdrawn.pk, acting_user=clerk, clock=world.clock)
    face = make_application(make_person(), office, status=Status.SUBMITTED)
    Application.objects.filter(pk=face.pk).update(kind=Kind.REPLACEMENT,
                                                  replacement_reason=ReplacementReason.FACE_CHANGE)
    world.produce()
    issued, defective, voided = (card_of(a) for a in produced)
    for state in _TO_ISSUED:
        transition([issued.pk, voided.pk], state, actor="t", now=world.clock())
    transition([defective.pk], CardState.RECEIVED, actor="t", now=world.clock())
    transition([defective.pk], CardState.DEFECTIVE, actor="t", now=world.clock(),
               updates={"defect_source": "qc", "defect_note": "scratched"})
    do_report_loss(issued.person, channel=LossChannel.ONLINE, now=world.clock, ca=world.ca)
    world.clock.advance(minutes=5)
    do_revoke_loss(issued.person, channel=LossChannel.ONLINE, now=world.clock, ca=world.ca)
    transition([voided.pk], CardState.VOIDED, actor="t", now=world.clock(),
               updates={"void_reason": VoidReason.EMIGRATED})
    return {"produced": produced, "emigrant": emigrant, "withdrawn": withdrawn, "face": face,
            "issued": issued, "defective": defective, "voided": voided}


def test_each_list_holds_the_days_events(client: Client, systems: Systems, office: Office,
                                         day_of_events: dict[str, Any]) -> None:
    found = lists(client, systems, office)
    e = day_of_events
    accepted = found[FileType.ACCEPTED]
    assert sorted(r.application_id for r in accepted) == sorted(a.pk for a in e["produced"])
    first = next(r for r in accepted if r.card_serial == e["issued"].serial)
    assert (first.id_number, first.surname, first.birth_date) == (
        e["issued"].person.id_number, e["issued"].person.surname, e["issued"].person.birth_date)
    (failed,) = found[FileType.FAILED]
    assert (failed.application_id, failed.reason) == (e["emigrant"].pk, "emigrated")
    (withdrawn,) = found[FileType.WITHDRAWN]
    assert withdrawn.application_id == e["withdrawn"].pk
    (face,) = found[FileType.FACE_CHANGES]
    assert (face.application_id, face.status) == (e["face"].pk, "submitted")
    (defect,) = found[FileType.DEFECTIVE_RETURNS]
    assert (defect.card_serial, defect.defect_source, defect.defect_note) == (e["defective"].serial, "qc",
                                                                              "scratched")
    assert {r.card_serial for r in found[FileType.ROUTINE]} == {e["issued"].serial, e["voided"].serial}
    assert all(r.kind == "first_issuance" for r in found[FileType.ROUTINE])
    assert [(r.card_serial, r.flag) for r in found[FileType.LOSS_FLAGS]] == [
        (e["issued"].serial, "lost"), (e["issued"].serial, "loss_revoked")]
    (cancelled,) = found[FileType.CANCELLATION_FLAGS]
    assert (cancelled.card_serial, cancelled.flag, cancelled.reason) == (e["voided"].serial, "voided",
                                                                         "emigrated")
    audit = AuditEntry.objects.filter(function="exchange.registry.list", actor="system:registry-moi")
    assert audit.count() == len(REGISTRY_LISTS)


def test_other_days_and_offices_are_empty(client: Client, systems: Systems, other_office: Office,
                                          office: Office, day_of_events: dict[str, Any]) -> None:
    assert all(records == [] for records in lists(client, systems, other_office).values())
    next_day = lists(client, systems, office, TODAY + timedelta(days=1))
    assert all(records == [] for records in next_day.values())


def test_personal_data_only_in_the_accepted_list() -> None:
    personal = {"surname", "given_name", "romanised_name", "birth_date", "address", "person", "photo_jpeg"}
    for file_type, cls in RECORD_TYPES.items():
        fields = {f.name for f in dataclasses.fields(cls)}
        if file_type in (FileType.ACCEPTED, FileType.PACKAGE):
            assert fields & personal
        else:
            assert not fields & personal, file_type


def test_list_requests_are_checked(client: Client, systems: Systems, office: Office) -> None:
    auth = systems.auth(SystemScope.REGISTRY)
    unknown = client.get("/api/exchange/registry/files/registry.accepted",
                         {"office": "0000000000", "date": "2026-10-01"}, **auth)
    assert unknown.status_code == 404
    package = client.get("/api/exchange/registry/files/production.package",
                         {"office": office.code, "date": "2026-10-01"}, **auth)
    assert package.status_code == 422 and package.json()["code"] == "X101"
    assert client.get("/api/exchange/registry/files/registry.accepted", {"office": office.code},
                      **auth).status_code == 422
    production = client.get("/api/exchange/registry/files/registry.accepted",
                            {"office": office.code, "date": "2026-10-01"},
                            **systems.auth(SystemScope.PRODUCTION))
    assert production.status_code == 401
    assert registry_list(FileType.FAILED, office.code, TODAY, now=NOW).endswith(b"\n")


def test_registry_notifications_are_kept_once(client: Client, systems: Systems, world: World,
                                              office: Office) -> None:
    application = make_application(make_person(), office)
    do_create_batches(TODAY, registry=world.registry, now=world.clock())
    id_number = application.person.id_number
    records: list[Record] = [NotificationRecord(11, "emigration", id_number, TODAY, NOW),
                             NotificationRecord(12, "name_change", make_person().id_number, TODAY, NOW)]
    body = encode_file(FileType.NOTIFICATIONS, records, office=None, created=NOW)
    auth = systems.auth(SystemScope.REGISTRY)
    first = client.post("/api/exchange/registry/notifications", body, content_type="application/x-ndjson",
                        **auth)
    assert first.json() == {"received": 2, "duplicates": 0, "cards_affected": 1}
    again = client.post("/api/exchange/registry/notifications", body, content_type="application/x-ndjson",
                        **auth)
    assert again.json() == {"received": 0, "duplicates": 2, "cards_affected": 0}
    assert sorted(RegistryNotification.objects.values_list("event_id", "kind")) == [
        (11, "emigration"), (12, "name_change")]
    assert Card.objects.filter(person=application.person).count() == 1
    entry = AuditEntry.objects.filter(function="exchange.registry.notifications").first()
    assert entry is not None and id_number not in str(entry.extra)
