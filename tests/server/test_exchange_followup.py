"""Follow-up of the registry's change notifications (MGMT-5, MGMT-7, MGMT-11): voiding requests for cards
not yet issued, certificates revoked, chip updates flagged; idempotent, one audit entry per run; from the
exchange API (on commit) and from `neweid cards process-notifications`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from typer.testing import CliRunner

from neweid.cli import cards as cards_cli
from neweid.server.accounts.approvals import do_approve
from neweid.server.accounts.models import ApprovalRequest, ApprovalStatus, Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import OPEN_STATUSES, Application, Status
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.ca import SimulatedCitizenCa
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState, CertificateState, VoidReason
from neweid.server.exchange.fileformat import FileType, NotificationRecord, Record, encode_file
from neweid.server.exchange.followup import (
    ACTOR,
    FUNCTION,
    SYSTEM_USERNAME,
    FollowupOutcome,
    do_process_notifications,
)
from neweid.server.exchange.models import ChipUpdateNeeded, RegistryNotification, SystemScope
from neweid.server.operations.models import ChipUpdate, RevocationPublication, VoidingRequest
from neweid.server.registry.errors import RegistryUnavailableError
from neweid.server.registry.models import Person
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import PersonStatus
from tests.server.conftest import StaffAccount
from tests.server.test_exchange_support import Systems, systems
from tests.server.test_operations_support import NOW, TODAY, make_application, make_person
from tests.server.test_operations_support import make_card as make_card_with

pytestmark = pytest.mark.django_db
__all__ = ["systems"]
_events = itertools.count(1000)


def make_card(person: Person, office: Office, **kwargs: Any) -> Card:
    """A card of its own application (a completed one when the person has an open one already)."""
    has_open = Application.objects.filter(person=person, status__in=OPEN_STATUSES).exists()
    application = make_application(person, office, status=Status.COMPLETED if has_open else Status.BATCHED)
    return make_card_with(person, office, application=application, **kwargs)


def notify(person: Person, kind: str, *, at: datetime = NOW) -> RegistryNotification:
    return RegistryNotification.objects.create(event_id=next(_events), kind=kind, id_number=person.id_number,
                                               effective_date=TODAY, recorded_at=at, received_at=at,
                                               received_from="registry-test")


def process(ca: SimulatedCitizenCa | None = None, **kwargs: Any) -> Any:
    return do_process_notifications(registry=SimulatedRegistry(clock=lambda: NOW),
                                    ca=ca or SimulatedCitizenCa(clock=lambda: NOW), now=lambda: NOW, **kwargs)


def outcome(notification: RegistryNotification) -> str:
    notification.refresh_from_db()
    assert notification.processed_at is not None
    return notification.outcome


def test_death_asks_to_void_cards_not_issued_and_revokes_issued_ones(
        office: Office, make_staff: Callable[..., StaffAccount]) -> None:
    person = make_person(status=PersonStatus.DEAD.value)
    waiting = make_card(person, office, state=CardState.NOTIFIED)
    in_hand = make_card(person, office, state=CardState.ISSUED)
    other = make_card(make_person(), office, state=CardState.NOTIFIED)
    notice = notify(person, "death")
    ca = SimulatedCitizenCa(clock=lambda: NOW)

    summary = process(ca)

    assert summary.processed == 1 and summary.cards_to_void == 1 and summary.certificates_revoked == 1
    voiding = VoidingRequest.objects.get()
    assert voiding.card_ids == [waiting.pk] and voiding.reason == VoidReason.DEAD
    assert voiding.office_id == office.pk and voiding.status == "pending"
    assert summary.voiding_requests == (voiding.pk,)
    approval = voiding.approval
    assert approval is not None and approval.status == ApprovalStatus.PENDING
    assert approval.requested_by.username == SYSTEM_USERNAME and not approval.requested_by.is_active
    assert Card.objects.get(pk=waiting.pk).state == CardState.NOTIFIED  # nothing voided before approval
    in_hand.refresh_from_db()
    assert in_hand.state == CardState.ISSUED and in_hand.certificate_state == CertificateState.REVOKED
    assert ca.calls == [("revoke", (in_hand.serial,), "cessationOfOperation")]
    assert list(RevocationPublication.objects.values_list("serial", flat=True)) == [in_hand.serial]
    assert Card.objects.get(pk=other.pk).state == CardState.NOTIFIED
    assert outcome(notice) == FollowupOutcome.VOIDING_REQUESTED
    entries = AuditEntry.objects.filter(function=FUNCTION)
    assert entries.count() == 1 and entries.get().actor == ACTOR
    assert person.id_number not in str(entries.get().extra)

    supervisor = make_staff(Role.OFFICE_SUPERVISOR)
    do_approve(approval.pk, acting_user=supervisor.user)
    waiting.refresh_from_db()
    assert waiting.state == CardState.VOIDED and waiting.void_reason == VoidReason.DEAD


@pytest.mark.parametrize(("kind", "status", "reason"), [
    ("death", PersonStatus.DECLARED_DEAD, VoidReason.DECLARED_DEAD),
    ("emigration", PersonStatus.EMIGRATED, VoidReason.EMIGRATED),
    ("emigration", PersonStatus.ACTIVE, VoidReason.EMIGRATED),  # back already: the notification decides
    ("status_change", PersonStatus.REGISTRATION_CANCELLED, VoidReason.REGISTRATION_CANCELLED),
])
def test_the_void_reason_follows_the_register(office: Office, kind: str, status: PersonStatus,
                                              reason: VoidReason) -> None:
    person = make_person(status=status.value)
    make_card(person, office, state=CardState.ORDERED, certificate=CertificateState.PENDING, arrived=False)
    notify(person, kind)
    process()
    assert VoidingRequest.objects.get().reason == reason


def test_status_change_to_missing_voids_nothing(office: Office) -> None:
    person = make_person(status=PersonStatus.MISSING.value)
    make_card(person, office, state=CardState.ISSUED)
    notice = notify(person, "status_change")
    summary = process()
    assert summary.processed == 1 and summary.certificates_revoked == 0
    assert not VoidingRequest.objects.exists()
    assert outcome(notice) == FollowupOutcome.NO_ACTION  # chip data unchanged


def test_cards_in_transit_wait_for_the_office(office: Office) -> None:
    person = make_person(status=PersonStatus.DEAD.value)
    card = make_card(person, office, state=CardState.SHIPPED, arrived=False)
    notice = notify(person, "death")
    first = process()
    assert first.processed == 0 and first.deferred == 1 and not VoidingRequest.objects.exists()
    notice.refresh_from_db()
    assert notice.processed_at is None
    Card.objects.filter(pk=card.pk).update(state=CardState.RECEIVED)
    second = process()
    assert second.processed == 1 and VoidingRequest.objects.get().card_ids == [card.pk]


def test_processing_is_idempotent(office: Office) -> None:
    person = make_person(status=PersonStatus.DEAD.value)
    card = make_card(person, office, state=CardState.QC_PASSED)
    notify(person, "death")
    assert process().cards_to_void == 1
    again = process()
    assert again.processed == 0 and again.voiding_requests == ()
    notify(person, "status_change")  # a second notice for the same person: no second request
    third = process()
    assert third.processed == 1 and third.cards_to_void == 0
    assert VoidingRequest.objects.get().card_ids == [card.pk]
    assert AuditEntry.objects.filter(function=FUNCTION).count() == 3  # one per run


def test_one_request_per_office_and_reason(office: Office, other_office: Office) -> None:
    dead, emigrated = make_person(status="dead"), make_person(status="emigrated")
    here = make_card(dead, office, state=CardState.RECEIVED)
    there = make_card(dead, other_office, state=CardState.ORDERED, arrived=False)
    abroad = make_card(emigrated, office, state=CardState.NOTIFIED)
    notify(dead, "death")
    notify(emigrated, "emigration")
    summary = process()
    assert len(summary.voiding_requests) == 3
    assert sorted(VoidingRequest.objects.values_list("office__code", "reason", "card_ids")) == sorted([
        (office.code, "dead", [here.pk]), (other_office.code, "dead", [there.pk]),
        (office.code, "emigrated", [abroad.pk])])
    assert ApprovalRequest.objects.filter(action="operations.void_cards").count() == 3


def test_guardianship_revokes_certificates_and_withholds_pending_ones(office: Office) -> None:
    person = make_person(under_guardianship=True)
    issued = make_card(person, office, state=CardState.ISSUED)
    ordered = make_card(person, office, state=CardState.ORDERED, certificate=CertificateState.PENDING,
                        arrived=False)
    notice = notify(person, "guardianship")
    ca = SimulatedCitizenCa(clock=lambda: NOW)
    summary = process(ca)
    assert summary.certificates_revoked == 1 and summary.certificates_withheld == 1
    assert ca.calls == [("revoke", (issued.serial,), "privilegeWithdrawn")]
    assert Card.objects.get(pk=issued.pk).certificate_state == CertificateState.REVOKED
    assert Card.objects.get(pk=ordered.pk).certificate_state == CertificateState.NOT_ALLOWED
    assert not VoidingRequest.objects.exists()
    assert outcome(notice) == FollowupOutcome.CERTIFICATES_REVOKED


def test_guardianship_lifted_changes_nothing(office: Office) -> None:
    person = make_person(under_guardianship=False)
    card = make_card(person, office, state=CardState.ISSUED)
    notice = notify(person, "guardianship")
    assert process().certificates_revoked == 0
    assert Card.objects.get(pk=card.pk).certificate_state == CertificateState.ACTIVE
    assert outcome(notice) == FollowupOutcome.NO_ACTION


def test_a_move_flags_a_chip_update_until_one_is_requested(office: Office) -> None:
    person = make_person()
    card = make_card(person, office, state=CardState.ISSUED)
    unchanged = make_person()
    make_card(unchanged, office, state=CardState.ISSUED)
    person.household.address = "臺北市中正區水源里2鄰汀州路三段9號"
    person.household.save(update_fields=["address"])
    moved, married = notify(person, "move"), notify(unchanged, "marriage")
    summary = process()
    assert summary.chip_updates_flagged == 1
    flag = ChipUpdateNeeded.objects.get()
    assert (flag.card_id, flag.office_id, flag.fields, flag.event_id) == (
        card.pk, office.pk, ["address", "household_region"], moved.event_id)
    assert outcome(moved) == FollowupOutcome.CHIP_UPDATE_FLAGGED
    assert outcome(married) == FollowupOutcome.NO_ACTION  # the chip holds the register's data
    assert flag.resolved_at is None
    ChipUpdate.objects.create(card=card, person=person, office=office, changes={}, fields=["address"],
                              new_chip_digest="0" * 64, requested_at=NOW)
    flag.refresh_from_db()
    assert flag.resolved_at == NOW


def test_a_name_change_needs_a_new_card(office: Office) -> None:
    person = make_person()
    make_card(person, office, state=CardState.ISSUED)
    notice = notify(person, "name_change")
    nobody = notify(make_person(), "move")
    process()
    assert outcome(notice) == FollowupOutcome.NEW_CARD_NEEDED
    assert outcome(nobody) == FollowupOutcome.NO_CARD
    assert not ChipUpdateNeeded.objects.exists()


def test_a_registry_outage_leaves_everything_for_the_next_run(office: Office) -> None:
    person = make_person(status="dead")
    make_card(person, office, state=CardState.NOTIFIED)
    notice = notify(person, "death")
    registry = SimulatedRegistry(clock=lambda: NOW)
    registry.faults.go_down()
    with pytest.raises(RegistryUnavailableError):
        do_process_notifications(registry=registry, now=lambda: NOW)
    notice.refresh_from_db()
    assert notice.processed_at is None and not VoidingRequest.objects.exists()
    assert AuditEntry.objects.get(function=FUNCTION).result == "failure"


def test_limit_takes_the_oldest_first(office: Office) -> None:
    people = [make_person() for _ in range(3)]
    notices = [notify(p, "return") for p in people]
    assert process(limit=2).processed == 2
    assert [n.event_id for n in RegistryNotification.objects.filter(processed_at__isnull=True)] == [
        notices[2].event_id]


def test_the_api_follows_up_after_storing(client: Client, systems: Systems, office: Office,
                                          django_capture_on_commit_callbacks: Any) -> None:
    person = make_person(status="emigrated")
    card = make_card(person, office, state=CardState.NOTIFIED)
    records: list[Record] = [NotificationRecord(77, "emigration", person.id_number, TODAY, NOW)]
    body = encode_file(FileType.NOTIFICATIONS, records, office=None, created=NOW)
    auth: dict[str, Any] = systems.auth(SystemScope.REGISTRY)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/exchange/registry/notifications", body,
                               content_type="application/x-ndjson", **auth)
    assert response.status_code == 200 and response.json()["received"] == 1
    assert VoidingRequest.objects.get().card_ids == [card.pk]
    assert RegistryNotification.objects.get(event_id=77).outcome == FollowupOutcome.VOIDING_REQUESTED


def test_cli_process_notifications(office: Office) -> None:
    person = make_person(status="dead")
    make_card(person, office, state=CardState.NOTIFIED)
    notify(person, "death")
    result = CliRunner().invoke(cards_cli.app, ["process-notifications"])
    assert result.exit_code == 0, result.output
    voiding = VoidingRequest.objects.get()
    assert "1 notification(s) processed" in result.output
    assert f"voiding request {voiding.pk}: waiting" in result.output
    again = CliRunner().invoke(cards_cli.app, ["process-notifications", "--limit", "10"])
    assert again.exit_code == 0 and "0 notification(s) processed" in again.output
