"""At the office: the pickup roster, receiving, quality control and notifying citizens (MGMT-7).

* :func:`pickup_roster` lists the cards shipped to an office (optionally one shipment), in serial order:
  what the clerk downloads to count and check the cards against (領卡名冊).
* :func:`do_receive_cards` counts cards in (SHIPPED → RECEIVED).
* :func:`do_quality_check` records the clerk's verdicts: defective cards (face or chip flawed) are punched,
  cut and re-produced first in the next batch, and their citizen is not notified; the cards that passed
  are checked against the register: cards of people who emigrated, died, were declared dead or whose
  registration was cancelled, and duplicates of a routine issuance, are voided; for people under
  guardianship the certificate is revoked (MGMT-5); the rest pass QC.
* :func:`do_notify_cards` notifies the citizens (e-mail, SMS or letter, as they asked) and records it.

Each action is set-based and writes one audit entry for the whole set.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from neweid.server.accounts.access import require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.cards.batching import latest_records
from neweid.server.cards.ca import CardRef, CitizenCa, RevocationReason
from neweid.server.cards.errors import DefectNoteRequiredError, NotOnRosterError, WrongOfficeError
from neweid.server.cards.models import Card, Notification, NotificationChannel, NotificationStatus
from neweid.server.cards.notify import Notifier, PickupNotice
from neweid.server.cards.states import LIVE_STATES, CardState, CertificateState, DefectSource, VoidReason
from neweid.server.cards.transitions import INSERT_BATCH, chunks, transition
from neweid.server.registry.interface import HouseholdRegistry
from neweid.server.registry.values import PersonStatus

VOID_REASONS: dict[PersonStatus, VoidReason] = {
    PersonStatus.EMIGRATED: VoidReason.EMIGRATED,
    PersonStatus.DEAD: VoidReason.DEAD,
    PersonStatus.DECLARED_DEAD: VoidReason.DECLARED_DEAD,
    PersonStatus.REGISTRATION_CANCELLED: VoidReason.REGISTRATION_CANCELLED,
}
CERTIFIED = (CertificateState.PENDING, CertificateState.ACTIVE, CertificateState.SUSPENDED)


def require_office_staff(acting_user: Any, office: Office) -> None:
    """Case capability and a post at ``office`` (missing and forbidden alike)."""
    require(acting_user, Capability.OPERATE_CASES)
    if getattr(acting_user.staff_profile, "office_id", None) != office.pk:
        raise WrongOfficeError()


def pickup_roster(office: Office, *, shipment: str | None = None,
                  states: Sequence[CardState] = (CardState.SHIPPED,)) -> QuerySet[Card]:
    """The office's cards in ``states`` (default: shipped, not yet counted in), in serial order."""
    cards = Card.objects.filter(pickup_office=office, state__in=states)
    if shipment is not None:
        cards = cards.filter(shipment=shipment)
    return cards.order_by("serial")


def _office_cards(office: Office, serials: Sequence[str], state: CardState) -> dict[str, tuple[int, int]]:
    """serial -> (card ID, person ID) for ``serials``; NotOnRosterError unless all are the office's, in
    ``state``."""
    wanted = list(dict.fromkeys(serials))
    found: dict[str, tuple[int, int]] = {}
    for chunk in chunks(wanted):
        for serial, pk, person in (Card.objects.filter(serial__in=chunk, pickup_office=office, state=state)
                                   .values_list("serial", "pk", "person_id")):
            found[serial] = (pk, person)
    if len(found) != len(wanted):
        raise NotOnRosterError()
    return found


def do_receive_cards(office: Office, *, acting_user: Any, serials: Sequence[str] | None = None,
                     shipment: str | None = None, now: datetime.datetime | None = None) -> int:
    """Count cards in (SHIPPED → RECEIVED): the listed serials, or the whole shipment."""
    actor = actor_id(acting_user)
    with audited_action("cards.receive", actor=actor, object_type="office", object_id=office.code,
                        extra={"shipment": shipment or ""}) as audit:
        require_office_staff(acting_user, office)
        if serials is None:
            cards: QuerySet[Card] | list[int] = pickup_roster(office, shipment=shipment)
        else:
            cards = [pk for pk, _ in _office_cards(office, serials, CardState.SHIPPED).values()]
        moved = transition(cards, CardState.RECEIVED, actor=actor, batch_ref=shipment or "", now=now)
        audit.extra["cards"] = len(moved)
        return len(moved)


@dataclass(frozen=True)
class QcSummary:
    passed: int
    defective: int
    voided: dict[str, int]  # void reason -> cards
    certificates_revoked: int


def _revoke(ca: CitizenCa, rows: list[tuple[int, str]], reason: RevocationReason) -> int:
    """Revoke the certificates of ``rows`` (card ID, serial) at the CA, then mark them revoked."""
    if not rows:
        return 0
    ca.revoke([CardRef(pk, serial) for pk, serial in rows], reason)
    for chunk in chunks([pk for pk, _ in rows]):
        Card.objects.filter(pk__in=chunk).update(certificate_state=CertificateState.REVOKED)
    return len(rows)


def mark_defective(ids: Sequence[int], notes: Mapping[int, str], *, source: DefectSource, actor: str,
                   now: datetime.datetime | None = None) -> None:
    """Punched, cut and recorded: DEFECTIVE, to be re-produced first in the next batch (no notice)."""
    if not ids:
        return
    transition(ids, CardState.DEFECTIVE, actor=actor, reason="defective", now=now,
               updates={"defect_source": source})
    by_note: dict[str, list[int]] = defaultdict(list)
    for pk in ids:
        by_note[notes[pk][:200]].append(pk)
    for note, note_ids in by_note.items():  # usually a handful of distinct notes
        for chunk in chunks(note_ids):
            Card.objects.filter(pk__in=chunk).update(defect_note=note)


def do_quality_check(office: Office, *, acting_user: Any, registry: HouseholdRegistry, ca: CitizenCa,
                     passed: Sequence[str] = (), defective: Mapping[str, str] | None = None,
                     now: datetime.datetime | None = None) -> QcSummary:
    """The clerk's QC verdicts on received cards; see the module's docstring for the system's checks."""
    actor = actor_id(acting_user)
    defects = dict(defective or {})
    with audited_action("cards.quality_check", actor=actor, object_type="office",
                        object_id=office.code) as audit:
        require_office_staff(acting_user, office)
        if any(not note.strip() for note in defects.values()):
            raise DefectNoteRequiredError()
        bad = _office_cards(office, list(defects), CardState.RECEIVED)
        mark_defective([pk for pk, _ in bad.values()], {pk: defects[s].strip() for s, (pk, _) in bad.items()},
                       source=DefectSource.QC, actor=actor, now=now)
        good = _office_cards(office, passed, CardState.RECEIVED)
        voided, revoked = _registry_checks(good, registry, ca, actor, now)
        voided_ids = {pk for ids in voided.values() for pk in ids}
        passing = [pk for pk, _ in good.values() if pk not in voided_ids]
        transition(passing, CardState.QC_PASSED, actor=actor, now=now)
        summary = QcSummary(len(passing), len(bad), {r: len(ids) for r, ids in voided.items()}, revoked)
        audit.extra.update({"passed": summary.passed, "defective": summary.defective,
                            "voided": summary.voided, "certificates_revoked": revoked})
        return summary


def _registry_checks(cards: dict[str, tuple[int, int]], registry: HouseholdRegistry, ca: CitizenCa,
                     actor: str, now: datetime.datetime | None) -> tuple[dict[str, list[int]], int]:
    """Void the cards the register says must not be handed over; revoke certificates under guardianship."""
    ids = [pk for pk, _ in cards.values()]
    rows: list[tuple[int, str, int, str, datetime.datetime, str]] = []
    for chunk in chunks(ids):
        rows.extend(Card.objects.filter(pk__in=chunk).values_list(
            "pk", "serial", "person_id", "person__id_number", "application__submitted_at",
            "certificate_state"))
    records = latest_records(registry, [row[3] for row in rows])
    later = _later_applications({row[2] for row in rows}, set(ids))
    voided: dict[str, list[int]] = defaultdict(list)
    guardianship: list[tuple[int, str]] = []
    for pk, serial, person, id_number, submitted, certificate in rows:
        record = records.get(id_number)
        if record is None:
            voided[VoidReason.REGISTRATION_CANCELLED].append(pk)
        elif record.status in VOID_REASONS:
            voided[VOID_REASONS[record.status]].append(pk)
        elif any(other > submitted for other in later.get(person, ())):
            voided[VoidReason.DUPLICATE].append(pk)  # a later routine issuance supersedes this card
        elif record.under_guardianship and certificate in CERTIFIED:
            guardianship.append((pk, serial))
    revoked = _revoke(ca, guardianship, RevocationReason.PRIVILEGE_WITHDRAWN)
    for reason, reason_ids in sorted(voided.items()):
        transition(reason_ids, CardState.VOIDED, actor=actor, reason=f"QC: {reason}", now=now,
                   updates={"void_reason": reason})
    voided_ids = {pk for reason_ids in voided.values() for pk in reason_ids}
    void_rows = [(pk, serial) for pk, serial, *_, certificate in rows
                 if certificate in CERTIFIED and pk in voided_ids]
    revoked += _revoke(ca, void_rows, RevocationReason.CESSATION_OF_OPERATION)
    return voided, revoked


def _later_applications(person_ids: set[int], exclude: set[int]) -> dict[int, list[datetime.datetime]]:
    """person -> submission times of the applications behind their other live cards."""
    result: dict[int, list[datetime.datetime]] = defaultdict(list)
    people = sorted(person_ids)
    for chunk in chunks(people):
        for person, pk, submitted in (Card.objects.filter(person_id__in=chunk, state__in=LIVE_STATES)
                                      .values_list("person_id", "pk", "application__submitted_at")):
            if pk not in exclude:
                result[person].append(submitted)
    return result


def _channel(email: str, phone: str) -> NotificationChannel:
    if email:
        return NotificationChannel.EMAIL
    if phone:
        return NotificationChannel.SMS
    return NotificationChannel.LETTER


def do_notify_cards(office: Office, *, acting_user: Any, notifier: Notifier,
                    serials: Sequence[str] | None = None, now: datetime.datetime | None = None) -> int:
    """QC_PASSED → NOTIFIED with a Notification each (the listed cards, or all of the office's); the
    notices are handed to ``notifier`` once the transaction has committed."""
    actor = actor_id(acting_user)
    moment = now if now is not None else timezone.now()
    with audited_action("cards.notify", actor=actor, object_type="office", object_id=office.code) as audit:
        require_office_staff(acting_user, office)
        if serials is None:
            ids = list(pickup_roster(office, states=(CardState.QC_PASSED,)).values_list("pk", flat=True))
        else:
            ids = [pk for pk, _ in _office_cards(office, serials, CardState.QC_PASSED).values()]
        transition(ids, CardState.NOTIFIED, actor=actor, now=moment)
        contacts: list[tuple[int, str, str, str]] = []
        for chunk in chunks(ids):
            contacts.extend(Card.objects.filter(pk__in=chunk).values_list(
                "pk", "serial", "application__contact_email", "application__contact_phone"))
        notifications = [Notification(card_id=pk, channel=_channel(email, phone), created_at=moment)
                         for pk, _, email, phone in contacts]
        Notification.objects.bulk_create(notifications, batch_size=INSERT_BATCH)
        notices = [PickupNotice(pk, serial, office.code, _channel(email, phone), email or phone or "")
                   for pk, serial, email, phone in contacts]
        counts: dict[str, int] = defaultdict(int)
        for notice in notices:
            counts[f"{notice.channel}_notices"] += 1  # not "email": the audit log refuses personal keys
        audit.extra.update({"cards": len(ids), "channels": dict(counts)})
        transaction.on_commit(lambda: _deliver(notifier, notices, moment))
        return len(ids)


def _deliver(notifier: Notifier, notices: list[PickupNotice], moment: datetime.datetime) -> None:
    notifier.send(notices)
    card_ids = [n.card_id for n in notices]
    for chunk in chunks(card_ids):
        Notification.objects.filter(card_id__in=chunk, status=NotificationStatus.QUEUED).update(
            status=NotificationStatus.SENT, sent_at=moment)
