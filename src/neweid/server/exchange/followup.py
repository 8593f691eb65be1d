"""Following up the household registration system's change notifications (MGMT-5, MGMT-7, MGMT-11).

:func:`do_process_notifications` takes the notifications not yet processed, oldest first, and does what
each change means for the person's cards, set-based (a few queries and one registry look-up per run, one
audit entry):

* **death / declared dead / emigration / registration cancelled** (``death``, ``emigration``, and a
  ``status_change`` to one of these): cards not yet issued are to be voided with that reason. Voiding
  needs a second person (MGMT-12), so a voiding request with its approval request is opened per office
  and reason, the household registration system being the maker; an office supervisor approves it in the
  console and the cards are voided then (:func:`neweid.server.operations.voiding.execute_voiding`).
  Issued (or lost) cards' certificates are revoked at once through the citizen CA
  (``cessationOfOperation``). Cards still on their way from the production centre cannot be voided yet:
  the notification stays unprocessed until they have reached the office.
* **guardianship** (when the register says the person is now under guardianship): the certificates of
  the person's cards are revoked (``privilegeWithdrawn``) and cards still waiting for theirs get none;
  new applications already get no certificate (applications rules).
* **move, return, marriage, divorce, spouse died, other status changes**: every live card whose chip
  data differs from the register now is flagged :class:`~neweid.server.exchange.models.ChipUpdateNeeded`
  for its office (fields not printed on the face: address and household region, spouse, parents,
  military service); a name change needs a new card (CARD-7) and is only counted.

Each processed notification gets ``processed_at`` and an ``outcome``.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from neweid.server.accounts.models import ApprovalRequest
from neweid.server.audit.log import audited_action
from neweid.server.cards.ca import CitizenCa, RevocationReason, get_citizen_ca
from neweid.server.cards.carddata import chip_fields, digest
from neweid.server.cards.models import Card
from neweid.server.cards.office import VOID_REASONS
from neweid.server.cards.states import LIVE_STATES, CardState, CertificateState, VoidReason
from neweid.server.cards.transitions import chunks
from neweid.server.exchange.models import ChipUpdateNeeded, RegistryNotification
from neweid.server.operations.chip_updates import UPDATABLE_FIELDS
from neweid.server.operations.models import VoidingRequest, VoidingRequestStatus
from neweid.server.operations.voiding import ACTION as VOID_ACTION
from neweid.server.operations.voiding import LIVE_CERTIFICATE, MAX_CARDS_PER_REQUEST, revoke_certificates
from neweid.server.registry.interface import HouseholdRegistry, PersonRecord
from neweid.server.registry.wiring import household_registry

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime.datetime]

FUNCTION = "exchange.registry.followup"
ACTOR = "system:registry-followup"
#: The user the voiding requests are asked by (inactive, no password: it cannot sign in).
SYSTEM_USERNAME = "system_registry"
DEFAULT_LIMIT = 50_000

#: When the register no longer says so (a later change), the kind alone decides.
KIND_VOID_REASONS = {"death": VoidReason.DEAD, "emigration": VoidReason.EMIGRATED}
#: Chip fields (not printed on the face) each kind of change may concern.
CHIP_FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    "move": ("address", "household_region"),
    "return": ("address", "household_region"),
    "marriage": ("spouse",),
    "divorce": ("spouse",),
    "spouse_died": ("spouse",),
    "status_change": ("father", "military_status", "mother"),
}
#: Not yet issued, at the office or ordered: may be voided now.
VOIDABLE_NOW = frozenset({CardState.ORDERED, CardState.RECEIVED, CardState.QC_PASSED, CardState.NOTIFIED})
#: On the way from the production centre: voided once received.
IN_TRANSIT = frozenset({CardState.IN_PRODUCTION, CardState.PRODUCED, CardState.SHIPPED})
#: In the citizen's hands (or reported lost): the certificates are revoked, the card stays as it is.
IN_USE = frozenset({CardState.ISSUED, CardState.LOST})


class FollowupOutcome(StrEnum):
    VOIDING_REQUESTED = "voiding_requested"  # voiding requests opened and/or certificates revoked
    CERTIFICATES_REVOKED = "certificates_revoked"  # guardianship
    CHIP_UPDATE_FLAGGED = "chip_update_flagged"
    NEW_CARD_NEEDED = "new_card_needed"  # a face change (name): the citizen applies for a replacement
    NO_CARD = "no_card"  # the person has no card the change concerns
    NO_ACTION = "no_action"  # nothing to do (e.g. guardianship lifted, chip data current)


@dataclass(frozen=True)
class FollowupSummary:
    processed: int = 0
    deferred: int = 0  # cards still in transit: processed by a later run
    voiding_requests: tuple[int, ...] = ()
    cards_to_void: int = 0
    certificates_revoked: int = 0
    certificates_withheld: int = 0  # cards waiting for a certificate that will not get one (guardianship)
    chip_updates_flagged: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (f"{self.processed} notification(s) processed, {self.deferred} waiting for cards in transit; "
                f"{len(self.voiding_requests)} voiding request(s) for {self.cards_to_void} card(s), "
                f"{self.certificates_revoked} certificate(s) revoked, {self.chip_updates_flagged} chip "
                "update(s) flagged")


@dataclass(frozen=True)
class _Notice:
    pk: int
    event_id: int
    kind: str
    id_number: str


@dataclass
class _Run:
    """What one run decides, filled in notice by notice, written set-based at the end."""

    cards: dict[str, list[tuple[int, str, str, int, str, str]]]  # id_number -> (pk, state, cert, office...)
    pending_void: set[int]
    to_void: dict[tuple[int, VoidReason], list[int]] = field(default_factory=lambda: defaultdict(list))
    to_revoke: dict[RevocationReason, set[int]] = field(default_factory=lambda: defaultdict(set))
    to_withhold: set[int] = field(default_factory=set)
    flags: dict[int, tuple[int, set[str], int]] = field(default_factory=dict)  # card -> (office, fields, ev)
    outcomes: dict[int, FollowupOutcome] = field(default_factory=dict)  # notice pk -> outcome
    deferred: int = 0


def system_user() -> Any:
    """The household registration system as the maker of its voiding requests (created on first use)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = user_model(username=SYSTEM_USERNAME, is_active=False)
        user.set_unusable_password()
        user.save()
    return user


def _unprocessed(limit: int) -> list[_Notice]:
    rows = (RegistryNotification.objects.select_for_update().filter(processed_at__isnull=True)
            .order_by("recorded_at", "event_id").values_list("pk", "event_id", "kind", "id_number")[:limit])
    return [_Notice(*row) for row in rows]


def _cards_of(id_numbers: Sequence[str]) -> dict[str, list[tuple[int, str, str, int, str, str]]]:
    """Live cards of the people: (pk, state, certificate state, office, chip digest, id number)."""
    found: dict[str, list[tuple[int, str, str, int, str, str]]] = defaultdict(list)
    for chunk in chunks(list(id_numbers)):
        for row in (Card.objects.select_for_update().filter(person__id_number__in=chunk,
                                                            state__in=list(LIVE_STATES))
                    .order_by("pk").values_list("pk", "state", "certificate_state", "pickup_office_id",
                                                "chip_digest", "person__id_number")):
            found[row[5]].append(row)
    return found


def _cards_pending_voiding() -> set[int]:
    ids: set[int] = set()
    for card_ids in VoidingRequest.objects.filter(status=VoidingRequestStatus.PENDING).values_list("card_ids",
                                                                                                     flat=True):
        ids.update(int(pk) for pk in card_ids)
    return ids


def _void_reason(notice: _Notice, record: PersonRecord | None) -> VoidReason | None:
    if record is not None and record.status in VOID_REASONS:
        return VOID_REASONS[record.status]
    return KIND_VOID_REASONS.get(notice.kind)


def _follow_void(run: _Run, notice: _Notice, reason: VoidReason) -> None:
    cards = run.cards.get(notice.id_number, [])
    if any(CardState(state) in IN_TRANSIT for _, state, *_ in cards):
        run.deferred += 1
        return
    for pk, state, certificate, office, *_ in cards:
        if CardState(state) in VOIDABLE_NOW and pk not in run.pending_void:
            run.to_void[(office, reason)].append(pk)
            run.pending_void.add(pk)
        elif CardState(state) in IN_USE and certificate in LIVE_CERTIFICATE:
            run.to_revoke[RevocationReason.CESSATION_OF_OPERATION].add(pk)
    run.outcomes[notice.pk] = FollowupOutcome.VOIDING_REQUESTED if cards else FollowupOutcome.NO_CARD


def _follow_guardianship(run: _Run, notice: _Notice, record: PersonRecord | None) -> None:
    cards = run.cards.get(notice.id_number, [])
    if record is None or not record.under_guardianship:
        run.outcomes[notice.pk] = FollowupOutcome.NO_ACTION
        return
    for pk, _state, certificate, *_ in cards:
        if certificate in LIVE_CERTIFICATE:
            run.to_revoke[RevocationReason.PRIVILEGE_WITHDRAWN].add(pk)
        elif certificate == CertificateState.PENDING:
            run.to_withhold.add(pk)
    run.outcomes[notice.pk] = FollowupOutcome.CERTIFICATES_REVOKED if cards else FollowupOutcome.NO_CARD


def _follow_chip(run: _Run, notice: _Notice, record: PersonRecord | None) -> None:
    cards = [c for c in run.cards.get(notice.id_number, []) if CardState(c[1]) is not CardState.LOST]
    fields = {f for f in CHIP_FIELDS_BY_KIND[notice.kind] if f in UPDATABLE_FIELDS}
    if not cards or record is None:
        run.outcomes[notice.pk] = FollowupOutcome.NO_CARD
        return
    current = digest(chip_fields(record))
    flagged = False
    for pk, _state, _certificate, office, chip_digest, _ in cards:
        if chip_digest != current:
            _office, known, event_id = run.flags.get(pk, (office, set(), notice.event_id))
            run.flags[pk] = (office, known | fields, event_id)
            flagged = True
    run.outcomes[notice.pk] = FollowupOutcome.CHIP_UPDATE_FLAGGED if flagged else FollowupOutcome.NO_ACTION


def _decide(run: _Run, notices: Iterable[_Notice], records: dict[str, PersonRecord]) -> None:
    for notice in notices:
        record = records.get(notice.id_number)
        reason = _void_reason(notice, record) if notice.kind in ("death", "emigration", "status_change") \
            else None
        if reason is not None:
            _follow_void(run, notice, reason)
        elif notice.kind == "guardianship":
            _follow_guardianship(run, notice, record)
        elif notice.kind in CHIP_FIELDS_BY_KIND:
            _follow_chip(run, notice, record)
        elif notice.kind == "name_change":
            run.outcomes[notice.pk] = FollowupOutcome.NEW_CARD_NEEDED
        else:
            run.outcomes[notice.pk] = FollowupOutcome.NO_ACTION


def _open_voiding_requests(run: _Run, at: datetime.datetime) -> list[int]:
    maker, opened = system_user(), []
    for (office, reason), ids in sorted(run.to_void.items(), key=lambda item: (item[0][0], item[0][1].value)):
        for part in chunks(sorted(ids), MAX_CARDS_PER_REQUEST):
            voiding = VoidingRequest.objects.create(office_id=office, card_ids=list(part), reason=reason,
                                                    note="registry notification", requested_at=at)
            voiding.approval = ApprovalRequest.objects.create(
                action=VOID_ACTION, payload={"voiding_request": voiding.pk}, object_type="voiding_request",
                object_id=str(voiding.pk), office_id=office, requested_by=maker, requested_at=at)
            voiding.save(update_fields=["approval"])
            opened.append(voiding.pk)
    return opened


def _write_flags(run: _Run, at: datetime.datetime) -> int:
    rows = [ChipUpdateNeeded(card_id=pk, office_id=office, fields=sorted(fields), event_id=event_id,
                             flagged_at=at) for pk, (office, fields, event_id) in sorted(run.flags.items())]
    ChipUpdateNeeded.objects.bulk_create(rows, batch_size=2_000, ignore_conflicts=True)
    return len(rows)


def _mark_processed(run: _Run, at: datetime.datetime) -> None:
    by_outcome: dict[FollowupOutcome, list[int]] = defaultdict(list)
    for pk, outcome in run.outcomes.items():
        by_outcome[outcome].append(pk)
    for outcome, pks in by_outcome.items():
        for chunk in chunks(pks):
            RegistryNotification.objects.filter(pk__in=chunk).update(processed_at=at, outcome=outcome.value)


def do_process_notifications(*, registry: HouseholdRegistry | None = None, ca: CitizenCa | None = None,
                             limit: int = DEFAULT_LIMIT, now: Clock = timezone.now) -> FollowupSummary:
    """Follow up to ``limit`` unprocessed notifications (oldest first); one audit entry. Idempotent: a
    processed notification is not looked at again, and cards already in a pending voiding request are not
    requested twice. The registry and the CA default to the configured ones; if either fails, nothing
    changes and the notifications wait for the next run."""
    registry = registry if registry is not None else household_registry(clock=now)
    with audited_action(FUNCTION, actor=ACTOR, object_type="registry_notification") as audit:
        at = now()
        notices = _unprocessed(limit)
        people = sorted({n.id_number for n in notices})
        records = registry.people(people) if people else {}
        run = _Run(cards=_cards_of(people), pending_void=_cards_pending_voiding())
        _decide(run, notices, records)
        opened = _open_voiding_requests(run, at)
        revoked, authority = 0, ca if ca is not None else get_citizen_ca()
        for reason, ids in sorted(run.to_revoke.items()):
            for chunk in chunks(sorted(ids)):
                revoked += revoke_certificates(Card.objects.filter(pk__in=chunk), reason, at=at, ca=authority)
        for chunk in chunks(sorted(run.to_withhold)):
            Card.objects.filter(pk__in=chunk, certificate_state=CertificateState.PENDING).update(
                certificate_state=CertificateState.NOT_ALLOWED)
        flagged = _write_flags(run, at)
        _mark_processed(run, at)
        counts: dict[str, int] = defaultdict(int)
        for outcome in run.outcomes.values():
            counts[outcome.value] += 1
        summary = FollowupSummary(
            processed=len(run.outcomes), deferred=run.deferred, voiding_requests=tuple(opened),
            cards_to_void=sum(len(ids) for ids in run.to_void.values()), certificates_revoked=revoked,
            certificates_withheld=len(run.to_withhold), chip_updates_flagged=flagged, outcomes=dict(counts))
        audit.extra.update({"processed": summary.processed, "deferred": summary.deferred,
                            "voiding_requests": list(opened), "cards_to_void": summary.cards_to_void,
                            "certificates_revoked": revoked, "certificates_withheld": len(run.to_withhold),
                            "chip_updates_flagged": flagged, "outcomes": dict(sorted(counts.items()))})
        return summary


def process_after_receipt() -> None:
    """Run after stored notifications are committed (exchange API): a failure leaves them for the next run
    (``neweid cards process-notifications``)."""
    from neweid.server.errors import ServerError

    try:
        do_process_notifications()
    except ServerError as exc:
        logger.warning("registry notifications not followed up now (%s); they wait for the next run",
                       exc.code.value)


def resolve_chip_update_flags(card_ids: Iterable[int], *, at: datetime.datetime) -> int:
    """A chip update was requested for the cards: their open flags are resolved."""
    return ChipUpdateNeeded.objects.filter(card_id__in=list(card_ids), resolved_at__isnull=True).update(
        resolved_at=at)
