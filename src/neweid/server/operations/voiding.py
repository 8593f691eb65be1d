"""Voiding and destruction (MGMT-12, Ch.11 肆.四(二)).

1. Voiding a card needs a second person: :func:`do_request_voiding` records the request and its approval
   request; on approval the cards become ``VOIDED`` (with the reason) and their certificates are revoked.
2. Voided cards are punched, cut and kept in custody; the office lists them: defective cards for the
   production centre (re-made free, destroyed there), the others (voided, and old cards cut at issuance)
   for the city/county government's central destruction (:func:`do_compile_voiding_list`).
3. The list goes out (:func:`do_send_voiding_list`); the destruction is recorded and reported to MOI
   (:func:`do_record_destruction`): the cards become ``DESTROYED``.

Only cards that reached the office are listed (a card found defective in production never left the
centre). Everything is set-based and each step is one audited action.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from neweid.server.accounts.access import require
from neweid.server.accounts.approvals import open_approval
from neweid.server.accounts.models import ApprovalRequest
from neweid.server.accounts.roles import Capability
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action, record
from neweid.server.cards.ca import CardRef, CitizenCa, RevocationReason, get_citizen_ca
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.states import ALLOWED_FROM, CardState, CertificateState, VoidReason
from neweid.server.cards.transitions import INSERT_BATCH, chunks, transition
from neweid.server.errors import NotFoundError, ValidationFailedError
from neweid.server.operations.errors import (
    NothingToListError,
    OutOfScopeError,
    VoidingListStateError,
    VoidingNotAllowedError,
)
from neweid.server.operations.models import (
    DestructionRecord,
    RevocationPublication,
    VoidingList,
    VoidingListItem,
    VoidingListKind,
    VoidingListStatus,
    VoidingRequest,
    VoidingRequestStatus,
)
from neweid.server.operations.staff import staff_office

Clock = Callable[[], datetime.datetime]
ACTION = "operations.void_cards"
MAX_CARDS_PER_REQUEST = 10_000
#: Which cards go on which list.
LIST_STATES: dict[VoidingListKind, tuple[CardState, ...]] = {
    VoidingListKind.DEFECTIVE_RETURN: (CardState.DEFECTIVE,),
    VoidingListKind.CENTRAL_DESTRUCTION: (CardState.VOIDED, CardState.REPLACED),
}
LIVE_CERTIFICATE = (CertificateState.ACTIVE, CertificateState.SUSPENDED)


def do_request_voiding(card_ids: Iterable[int], reason: VoidReason, *, acting_user: Any, note: str = "",
                       now: Clock = timezone.now) -> VoidingRequest:
    """Ask to void cards of the office; nothing changes until a second person approves."""
    ids = sorted({int(pk) for pk in card_ids})
    reason = VoidReason(reason)
    with audited_action("operations.voiding.request", actor=actor_id(acting_user),
                        object_type="voiding_request",
                        extra={"reason": reason.value, "cards": len(ids)}) as audit:
        office = staff_office(acting_user)
        if not ids or len(ids) > MAX_CARDS_PER_REQUEST:
            raise ValidationFailedError()
        states = dict(Card.objects.filter(pk__in=ids, pickup_office=office).values_list("pk", "state"))
        if len(states) != len(ids):
            raise NotFoundError()  # unknown, or another office's cards: missing and forbidden alike
        if any(CardState(state) not in ALLOWED_FROM[CardState.VOIDED] for state in states.values()):
            raise VoidingNotAllowedError()
        voiding = VoidingRequest.objects.create(office=office, card_ids=ids, reason=reason, note=note[:200],
                                                requested_at=now())
        voiding.approval = open_approval(ACTION, {"voiding_request": voiding.pk}, acting_user=acting_user,
                                         object_type="voiding_request", object_id=voiding.pk, office=office)
        voiding.save(update_fields=["approval"])
        audit.object_id = str(voiding.pk)
        return voiding


def revoke_certificates(cards: QuerySet[Card], reason: RevocationReason, *, at: datetime.datetime,
                        ca: CitizenCa | None = None, recall_id: int | None = None) -> int:
    """Revoke the live certificates of ``cards`` (one read, one UPDATE, one CA call) and queue every card
    serial for OCSP/CRL publication. Returns the number of certificates revoked."""
    rows = list(cards.order_by().values_list("pk", "serial", "certificate_state"))
    live = [CardRef(pk, serial) for pk, serial, state in rows if state in LIVE_CERTIFICATE]
    for chunk in chunks([ref.card_id for ref in live]):
        Card.objects.filter(pk__in=chunk).update(certificate_state=CertificateState.REVOKED)
    RevocationPublication.objects.bulk_create(
        (RevocationPublication(card_id=pk, serial=serial, reason=reason.value, recall_id=recall_id,
                               revoked_at=at) for pk, serial, _ in rows), batch_size=INSERT_BATCH)
    if live:
        (ca or get_citizen_ca()).revoke(live, reason)
    return len(live)


def execute_voiding(request: ApprovalRequest, approver: Any, *,
                    ca: CitizenCa | None = None) -> dict[str, Any]:
    """Maker–checker executor: void the cards and revoke their certificates."""
    voiding = VoidingRequest.objects.select_for_update().get(pk=request.payload["voiding_request"])
    at = timezone.now()
    ids = transition([int(pk) for pk in voiding.card_ids], CardState.VOIDED, actor=actor_id(approver),
                     reason=f"voided: {voiding.reason}", now=at, updates={"void_reason": voiding.reason})
    revoked = revoke_certificates(Card.objects.filter(pk__in=ids), RevocationReason.CESSATION_OF_OPERATION,
                                  at=at, ca=ca)
    voiding.status = VoidingRequestStatus.APPROVED
    voiding.decided_at = at
    voiding.save(update_fields=["status", "decided_at"])
    record("operations.voiding.executed", actor=actor_id(approver), object_type="voiding_request",
           object_id=voiding.pk, extra={"cards": len(ids), "certificates_revoked": revoked})
    return {"voided": len(ids), "certificates_revoked": revoked}


def listable_cards(office_id: int, kind: VoidingListKind) -> QuerySet[Card]:
    """Cards of the office waiting for a list of ``kind``: in its states, arrived at the office, unlisted."""
    arrived = CardEvent.objects.filter(card=OuterRef("pk"), to_state=CardState.RECEIVED)
    listed = VoidingListItem.objects.filter(card=OuterRef("pk"))
    return (Card.objects.filter(pickup_office_id=office_id, state__in=list(LIST_STATES[kind]))
            .filter(Exists(arrived)).exclude(Exists(listed)))


def do_compile_voiding_list(kind: VoidingListKind, *, acting_user: Any,
                            now: Clock = timezone.now) -> VoidingList:
    """List every voided card of the office not yet listed (one read, one bulk insert)."""
    kind = VoidingListKind(kind)
    with audited_action("operations.voiding_list.compile", actor=actor_id(acting_user),
                        object_type="voiding_list", extra={"kind": kind.value}) as audit:
        office = staff_office(acting_user)
        rows = list(listable_cards(office.pk, kind).select_for_update().order_by("serial")
                    .values_list("pk", "serial", "state"))
        if not rows:
            raise NothingToListError()
        voiding_list = VoidingList.objects.create(
            office=office, kind=kind, county_code=office.county_code, card_count=len(rows), compiled_at=now(),
            compiled_by_staff=actor_id(acting_user))
        VoidingListItem.objects.bulk_create(
            (VoidingListItem(voiding_list=voiding_list, card_id=pk, serial=serial, state_when_listed=state)
             for pk, serial, state in rows), batch_size=INSERT_BATCH)
        audit.object_id = str(voiding_list.pk)
        audit.extra["cards"] = len(rows)
        return voiding_list


def _locked_list(list_id: int) -> VoidingList:
    voiding_list = VoidingList.objects.select_for_update().filter(pk=list_id).first()
    if voiding_list is None:
        raise NotFoundError()
    return voiding_list


def do_send_voiding_list(list_id: int, *, acting_user: Any, now: Clock = timezone.now) -> VoidingList:
    """The listed cards leave the office: to the production centre or to the city/county (列冊函送)."""
    with audited_action("operations.voiding_list.send", actor=actor_id(acting_user),
                        object_type="voiding_list", object_id=list_id) as audit:
        office = staff_office(acting_user)
        voiding_list = _locked_list(list_id)
        if voiding_list.office_id != office.pk:
            raise NotFoundError()
        if voiding_list.status != VoidingListStatus.COMPILED:
            raise VoidingListStateError()
        voiding_list.status = VoidingListStatus.SENT
        voiding_list.sent_at = now()
        voiding_list.sent_by_staff = actor_id(acting_user)
        voiding_list.save(update_fields=["status", "sent_at", "sent_by_staff"])
        audit.extra.update({"kind": voiding_list.kind, "cards": voiding_list.card_count})
        return voiding_list


def _check_destroyer(acting_user: Any, voiding_list: VoidingList) -> str:
    """Central destruction is recorded by the city/county; the centre's destruction of defective cards is
    recorded by the office that sent them (on the centre's report)."""
    if voiding_list.kind == VoidingListKind.DEFECTIVE_RETURN:
        office = staff_office(acting_user)
        if office.pk != voiding_list.office_id:
            raise NotFoundError()
        return "production_centre"
    require(acting_user, Capability.VIEW_COUNTY_REPORTS)
    office = acting_user.staff_profile.office
    if office is not None and office.county_code != voiding_list.county_code:
        raise OutOfScopeError()
    return f"county:{voiding_list.county_code}"


def do_record_destruction(list_id: int, *, place: str, method: str, destroyed_at: datetime.datetime,
                          acting_user: Any, now: Clock = timezone.now) -> DestructionRecord:
    """Record the destruction of a sent list's cards (→ ``DESTROYED``) and its report to MOI (備查)."""
    with audited_action("operations.voiding_list.destroy", actor=actor_id(acting_user),
                        object_type="voiding_list", object_id=list_id) as audit:
        voiding_list = _locked_list(list_id)
        destroyer = _check_destroyer(acting_user, voiding_list)
        if voiding_list.status != VoidingListStatus.SENT:
            raise VoidingListStateError()
        if not place.strip() or not method.strip():
            raise ValidationFailedError()
        at = now()
        cards = Card.objects.filter(pk__in=VoidingListItem.objects.filter(voiding_list=voiding_list)
                                    .values("card_id"))
        moved = transition(cards, CardState.DESTROYED, actor=actor_id(acting_user),
                           reason=f"destroyed (list {voiding_list.pk})", now=at)
        voiding_list.status = VoidingListStatus.DESTROYED
        voiding_list.save(update_fields=["status"])
        destruction = DestructionRecord.objects.create(
            voiding_list=voiding_list, destroyed_at=destroyed_at, destroyed_by=destroyer, place=place[:200],
            method=method[:100], card_count=len(moved), recorded_by_staff=actor_id(acting_user),
            reported_to_moi_at=at)
        audit.extra.update({"kind": voiding_list.kind, "cards": len(moved)})
        return destruction
