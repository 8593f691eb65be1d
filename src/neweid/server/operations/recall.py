"""Recall of cards with a chip security problem (MGMT-14, Ch.12 捌 (三)4).

1. MOI scopes the recall (production batches, serial ranges, chip lots) and chooses the remedy (firmware
   update or replacement): :func:`do_request_recall` records it and asks a second MOI administrator.
2. On approval (:func:`execute_recall`) the affected cards are listed (one read, one bulk insert), their
   certificates revoked at the CA and every serial queued for OCSP/CRL publication, the agencies' card
   APIs suspended and the agencies notified, and the citizens holding an affected card notified by e-mail,
   SMS or phone (the contact they gave on the application).
3. Offices record what they did (:func:`do_record_recall_progress`) and report progress
   (:func:`recall_progress`, one ``GROUP BY``); MOI lifts the API suspension once the API is fixed and
   closes the recall. Every record is kept.

Affected cards are those outside the production centre: at an office (received, checked, notified) or in
the citizen's hands (issued, lost). The centre handles cards still in production.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from neweid.server.accounts.access import has_capability, require
from neweid.server.accounts.approvals import open_approval
from neweid.server.accounts.models import ApprovalRequest
from neweid.server.accounts.roles import Capability
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action, record
from neweid.server.cards.ca import CitizenCa, RevocationReason
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState
from neweid.server.cards.transitions import INSERT_BATCH, chunks
from neweid.server.errors import NotFoundError, ValidationFailedError
from neweid.server.operations.errors import BadRecallScopeError, EmptyRecallError, RecallStateError
from neweid.server.operations.models import (
    AgencyNotification,
    ApiSuspension,
    ApiZone,
    CitizenNotification,
    NotificationChannel,
    Recall,
    RecallItem,
    RecallItemStatus,
    RecallRemedy,
    RecallStatus,
)
from neweid.server.operations.staff import staff_office
from neweid.server.operations.voiding import revoke_certificates

Clock = Callable[[], datetime.datetime]
ACTION = "operations.recall"
SERIAL = re.compile(r"^[A-Z]{2}[0-9]{7}$")
AFFECTED_STATES = (CardState.RECEIVED, CardState.QC_PASSED, CardState.NOTIFIED, CardState.ISSUED,
                   CardState.LOST)
IN_HAND_STATES = frozenset({CardState.ISSUED, CardState.LOST})
MAX_SCOPE_ITEMS = 1000


@dataclass(frozen=True)
class RecallScope:
    batch_ids: tuple[int, ...] = ()
    serial_ranges: tuple[tuple[str, str], ...] = ()
    chip_lots: tuple[str, ...] = ()  # production shipments / lots as the centre reports them

    def check(self) -> None:
        if not (self.batch_ids or self.serial_ranges or self.chip_lots):
            raise BadRecallScopeError()
        if max(len(self.batch_ids), len(self.serial_ranges), len(self.chip_lots)) > MAX_SCOPE_ITEMS:
            raise BadRecallScopeError()
        for first, last in self.serial_ranges:
            if not (SERIAL.match(first) and SERIAL.match(last)) or first[:2] != last[:2] or first > last:
                raise BadRecallScopeError()
        if any(not lot.strip() for lot in self.chip_lots):
            raise BadRecallScopeError()

    def condition(self) -> Q:
        condition = Q(pk__in=[])
        if self.batch_ids:
            condition |= Q(batch_id__in=list(self.batch_ids))
        for first, last in self.serial_ranges:
            condition |= Q(serial__gte=first, serial__lte=last)
        if self.chip_lots:
            condition |= Q(shipment__in=list(self.chip_lots))
        return condition


def scope_of(recall: Recall) -> RecallScope:
    return RecallScope(tuple(int(b) for b in recall.batch_ids),
                       tuple((str(a), str(b)) for a, b in recall.serial_ranges),
                       tuple(str(lot) for lot in recall.chip_lots))


def affected_cards(scope: RecallScope) -> QuerySet[Card]:
    return Card.objects.filter(scope.condition(), state__in=list(AFFECTED_STATES))


def do_request_recall(title: str, reason: str, remedy: RecallRemedy, scope: RecallScope, *, acting_user: Any,
                      now: Clock = timezone.now) -> Recall:
    """MOI scopes a recall; a second MOI administrator approves it (nothing happens before)."""
    remedy = RecallRemedy(remedy)
    with audited_action("operations.recall.request", actor=actor_id(acting_user), object_type="recall",
                        extra={"remedy": remedy.value}) as audit:
        require(acting_user, Capability.MANAGE_OFFICES)
        scope.check()
        if not title.strip() or not reason.strip():
            raise ValidationFailedError()
        count = affected_cards(scope).count()
        if count == 0:
            raise EmptyRecallError()
        recall = Recall.objects.create(
            title=title[:200], reason=reason, remedy=remedy, batch_ids=list(scope.batch_ids),
            serial_ranges=[list(r) for r in scope.serial_ranges], chip_lots=list(scope.chip_lots),
            requested_at=now(), requested_by_staff=actor_id(acting_user), card_count=count)
        recall.approval = open_approval(ACTION, {"recall": recall.pk}, acting_user=acting_user,
                                        object_type="recall", object_id=recall.pk, office=None)
        recall.save(update_fields=["approval"])
        audit.object_id = str(recall.pk)
        audit.extra["cards"] = count
        return recall


def _channel(email: str, phone: str) -> NotificationChannel:
    if email:
        return NotificationChannel.EMAIL
    if phone:
        return NotificationChannel.SMS
    return NotificationChannel.LETTER


def execute_recall(request: ApprovalRequest, approver: Any, *, ca: CitizenCa | None = None) -> dict[str, Any]:
    """Maker–checker executor: list, revoke, suspend the APIs, notify agencies and citizens."""
    recall = Recall.objects.select_for_update().get(pk=request.payload["recall"])
    if recall.status != RecallStatus.PENDING:
        raise RecallStateError()
    at = timezone.now()
    rows = list(affected_cards(scope_of(recall)).select_for_update(of=("self",)).order_by("serial")
                .values_list("pk", "serial", "pickup_office_id", "state", "application__contact_email",
                             "application__contact_phone"))
    if not rows:
        raise EmptyRecallError()
    RecallItem.objects.bulk_create(
        (RecallItem(recall=recall, card_id=pk, serial=serial, office_id=office, updated_at=at)
         for pk, serial, office, _state, _email, _phone in rows), batch_size=INSERT_BATCH)
    revoked = revoke_certificates(Card.objects.filter(pk__in=RecallItem.objects.filter(recall=recall)
                                                      .values("card_id")),
                                  RevocationReason.KEY_COMPROMISE, at=at, ca=ca, recall_id=recall.pk)
    ApiSuspension.objects.bulk_create(ApiSuspension(recall=recall, zone=zone, suspended_at=at)
                                      for zone in ApiZone)
    AgencyNotification.objects.create(recall=recall, audience="all_agencies", subject="api_suspended",
                                      created_at=at)
    citizens = [CitizenNotification(recall=recall, card_id=pk, channel=_channel(email or "", phone or ""),
                                    created_at=at)
                for pk, _serial, _office, state, email, phone in rows if state in IN_HAND_STATES]
    CitizenNotification.objects.bulk_create(citizens, batch_size=INSERT_BATCH)
    recall.status = RecallStatus.ACTIVE
    recall.activated_at = at
    recall.card_count = len(rows)
    recall.save(update_fields=["status", "activated_at", "card_count"])
    result = {"cards": len(rows), "certificates_revoked": revoked, "citizens_notified": len(citizens)}
    record("operations.recall.activated", actor=actor_id(approver), object_type="recall", object_id=recall.pk,
           extra=result)
    return result


def _active(recall_id: int) -> Recall:
    recall = Recall.objects.select_for_update().filter(pk=recall_id).first()
    if recall is None:
        raise NotFoundError()
    if recall.status != RecallStatus.ACTIVE:
        raise RecallStateError()
    return recall


_PROGRESS_FROM: dict[RecallItemStatus, tuple[RecallItemStatus, ...]] = {
    RecallItemStatus.FIRMWARE_UPDATED: (RecallItemStatus.NOTIFIED,),
    RecallItemStatus.REPLACEMENT_APPLIED: (RecallItemStatus.NOTIFIED,),
    RecallItemStatus.REPLACED: (RecallItemStatus.NOTIFIED, RecallItemStatus.REPLACEMENT_APPLIED),
}


def do_record_recall_progress(recall_id: int, card_ids: Iterable[int], status: RecallItemStatus, *,
                              acting_user: Any, now: Clock = timezone.now) -> int:
    """An office records the remedy for cards of its own (one UPDATE); returns how many were recorded."""
    status = RecallItemStatus(status)
    ids = sorted({int(pk) for pk in card_ids})
    with audited_action("operations.recall.progress", actor=actor_id(acting_user), object_type="recall",
                        object_id=recall_id, extra={"status": status.value, "cards": len(ids)}):
        office = staff_office(acting_user)
        recall = _active(recall_id)
        if status not in _PROGRESS_FROM or not ids:
            raise ValidationFailedError()
        if status is RecallItemStatus.FIRMWARE_UPDATED and recall.remedy != RecallRemedy.FIRMWARE_UPDATE:
            raise RecallStateError()
        if status is not RecallItemStatus.FIRMWARE_UPDATED and recall.remedy != RecallRemedy.REPLACEMENT:
            raise RecallStateError()
        updated = 0
        for chunk in chunks(ids):
            updated += RecallItem.objects.filter(recall=recall, office=office, card_id__in=chunk,
                                                 status__in=_PROGRESS_FROM[status]).update(
                status=status, updated_at=now())
        if updated != len(ids):
            raise RecallStateError()
        return updated


@dataclass(frozen=True)
class OfficeProgress:
    office_code: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def recall_progress(recall_id: int, *, acting_user: Any) -> tuple[OfficeProgress, ...]:
    """Per office, how many affected cards are at each step (one GROUP BY); offices see their own row."""
    recall = Recall.objects.filter(pk=recall_id).first()
    if recall is None:
        raise NotFoundError()
    query = RecallItem.objects.filter(recall=recall)
    if not has_capability(acting_user, Capability.VIEW_NATIONAL_REPORTS):
        query = query.filter(office=staff_office(acting_user, Capability.VIEW_OFFICE_REPORTS))
    progress: dict[str, dict[str, int]] = {}
    for row in (query.values("office__code", "status").annotate(n=Count("id")).order_by("office__code")):
        progress.setdefault(row["office__code"] or "", {})[row["status"]] = row["n"]
    return tuple(OfficeProgress(code, counts) for code, counts in progress.items())


def do_lift_api_suspension(recall_id: int, *, acting_user: Any, now: Clock = timezone.now) -> int:
    """The API change is out: lift the suspension and tell the agencies to update (step 5)."""
    with audited_action("operations.recall.lift_api_suspension", actor=actor_id(acting_user),
                        object_type="recall", object_id=recall_id):
        require(acting_user, Capability.MANAGE_OFFICES)
        recall = _active(recall_id)
        at = now()
        lifted = ApiSuspension.objects.filter(recall=recall, lifted_at__isnull=True).update(lifted_at=at)
        if lifted:
            AgencyNotification.objects.create(recall=recall, audience="all_agencies", subject="api_updated",
                                              created_at=at)
        return lifted


def do_close_recall(recall_id: int, *, acting_user: Any, now: Clock = timezone.now) -> Recall:
    with audited_action("operations.recall.close", actor=actor_id(acting_user), object_type="recall",
                        object_id=recall_id):
        require(acting_user, Capability.MANAGE_OFFICES)
        recall = _active(recall_id)
        if ApiSuspension.objects.filter(recall=recall, lifted_at__isnull=True).exists():
            raise RecallStateError()
        recall.status = RecallStatus.CLOSED
        recall.closed_at = now()
        recall.save(update_fields=["status", "closed_at"])
        return recall


def suspended_zones() -> Sequence[str]:
    """Zones whose agency API is suspended now (for the N_eID server to check)."""
    return sorted(set(ApiSuspension.objects.filter(lifted_at__isnull=True).values_list("zone", flat=True)))
