"""Loss reports and their revocation (MGMT-10, Ch.11 肆.二(二)).

A loss report puts the card in ``LOST``, suspends its citizen certificate at the CA and suspends its chip
data lists (DOC-2). Revoking the loss (the card was found, and no reissue has been applied for) restores
all three. A reissue application closes the loss for good: the lost card becomes ``REISSUED`` (void) and
its certificate is revoked (:func:`close_loss_for_reissue`).

The CA is called inside the transaction, as its last step: if the CA cannot be reached, nothing is
recorded and the citizen is asked to try again, rather than recording a loss whose certificate stays valid.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from neweid.server.accounts.access import require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.applications.models import Application, Kind
from neweid.server.applications.models import Status as ApplicationStatus
from neweid.server.audit.context import actor_id, current_actor
from neweid.server.audit.log import audited_action, record
from neweid.server.cards.ca import CardRef, CitizenCa, RevocationReason, get_citizen_ca
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.cards.transitions import transition
from neweid.server.operations.errors import (
    ChannelNeedsOfficeError,
    LossNotRevocableError,
    NoCardInUseError,
    OutsideOfficeHoursError,
    ReporterNotAllowedError,
)
from neweid.server.operations.models import ChipDataList, LossChannel, LossReport, LossStatus, ReporterRole
from neweid.server.operations.rules import OFFICE_HOURS, TAIPEI, OfficeHours, reporter_refusal
from neweid.server.registry.models import Person

Clock = Callable[[], datetime.datetime]
_PHONE_CHANNELS = frozenset({LossChannel.PHONE, LossChannel.HOTLINE_1996})
_OFFICE_CHANNELS = frozenset({LossChannel.COUNTER, LossChannel.PHONE})


def _check_channel(channel: LossChannel, office: Office | None, at: datetime.datetime,
                   hours: OfficeHours) -> None:
    if channel in _OFFICE_CHANNELS and office is None:
        raise ChannelNeedsOfficeError()
    if channel in _OFFICE_CHANNELS and not hours.are_open(at):
        raise OutsideOfficeHoursError()


def _check_reporter(person: Person, reporter: Person | None, channel: LossChannel,
                    at: datetime.datetime) -> ReporterRole:
    by_representative = reporter is not None and reporter.pk != person.pk
    is_parent = by_representative and reporter is not None and reporter.pk in {person.father_id,
                                                                                 person.mother_id}
    refusal = reporter_refusal(birth=person.birth_date, on=at.astimezone(TAIPEI).date(),
                               by_representative=by_representative, is_parent=is_parent,
                               by_phone=channel in _PHONE_CHANNELS)
    if refusal is not None:
        raise ReporterNotAllowedError()
    return ReporterRole.LEGAL_REPRESENTATIVE if by_representative else ReporterRole.SELF


ONLINE_ACTOR = "online"  # audit actor of reports made on the citizen site (as for online applications)


def _actor(acting_user: Any) -> str:
    return ONLINE_ACTOR if acting_user is None else actor_id(acting_user)


def _check_actor(acting_user: Any, channel: LossChannel) -> None:
    """Staff take counter, phone and hotline reports; online reports come from the citizen site."""
    if channel != LossChannel.ONLINE or acting_user is not None:
        require(acting_user, Capability.OPERATE_CASES)


def _office_of(acting_user: Any, office: Office | None) -> Office | None:
    if office is not None:
        return office
    profile = getattr(acting_user, "staff_profile", None)
    return getattr(profile, "office", None)


def do_report_loss(person: Person, *, channel: LossChannel, reporter: Person | None = None,
                   office: Office | None = None, acting_user: Any = None, now: Clock = timezone.now,
                   ca: CitizenCa | None = None, hours: OfficeHours = OFFICE_HOURS) -> LossReport:
    """Report the loss of ``person``'s card in use; ``reporter`` None means the person.

    ``office``: the office taking a counter or phone report (default: the acting staff member's office).
    """
    channel = LossChannel(channel)
    with audited_action("operations.loss.report", actor=_actor(acting_user), object_type="loss_report",
                        extra={"channel": channel.value}) as audit:
        _check_actor(acting_user, channel)
        at = now()
        office = _office_of(acting_user, office) if channel in _OFFICE_CHANNELS else None
        _check_channel(channel, office, at, hours)
        role = _check_reporter(person, reporter, channel, at)
        audit.extra["reporter_role"] = role.value
        card = Card.objects.select_for_update().filter(person=person, state=CardState.ISSUED).first()
        if card is None:
            raise NoCardInUseError()
        actor = _actor(acting_user)
        transition(Card.objects.filter(pk=card.pk), CardState.LOST, actor=actor,
                   reason=f"loss reported ({channel.value})")
        suspend_certificate = card.certificate_state == CertificateState.ACTIVE
        if suspend_certificate:
            Card.objects.filter(pk=card.pk).update(certificate_state=CertificateState.SUSPENDED)
        lists = ChipDataList.objects.filter(card=card, suspended=False).update(suspended=True)
        report = LossReport.objects.create(
            card=card, person=person, channel=channel, reporter_role=role,
            reporter=reporter if reporter is not None else person, office=office, reported_at=at,
            reported_by_staff="" if acting_user is None else actor, certificate_suspended=suspend_certificate)
        audit.object_id = str(report.pk)
        audit.extra.update({"card": card.pk, "certificate_suspended": suspend_certificate,
                            "chip_data_lists_suspended": lists})
        if suspend_certificate:
            (ca or get_citizen_ca()).suspend([CardRef(card.pk, card.serial or "")])
        return report


def reissue_applied(report: LossReport) -> bool:
    """Whether a reissue after loss has been applied for since the report (not cancelled)."""
    return (Application.objects.filter(person_id=report.person_id, kind=Kind.REISSUE_LOSS,
                                       submitted_at__gte=report.reported_at)
            .exclude(status=ApplicationStatus.CANCELLED).exists())


def do_revoke_loss(person: Person, *, channel: LossChannel, reporter: Person | None = None,
                   office: Office | None = None, acting_user: Any = None, now: Clock = timezone.now,
                   ca: CitizenCa | None = None, hours: OfficeHours = OFFICE_HOURS) -> LossReport:
    """The card was found before a reissue was applied for: card, certificate and chip data lists are
    restored (撤銷掛失, at the counter, by phone or online)."""
    channel = LossChannel(channel)
    with audited_action("operations.loss.revoke", actor=_actor(acting_user), object_type="loss_report",
                        extra={"channel": channel.value}) as audit:
        _check_actor(acting_user, channel)
        at = now()
        office = _office_of(acting_user, office) if channel in _OFFICE_CHANNELS else None
        _check_channel(channel, office, at, hours)
        _check_reporter(person, reporter, channel, at)
        report = (LossReport.objects.select_for_update()
                  .filter(person=person, status=LossStatus.ACTIVE).select_related("card").first())
        if report is None:
            raise NoCardInUseError()
        audit.object_id = str(report.pk)
        if reissue_applied(report):
            raise LossNotRevocableError()
        card = report.card
        transition(Card.objects.filter(pk=card.pk), CardState.ISSUED, actor=_actor(acting_user),
                   reason="loss revoked")
        if report.certificate_suspended:
            Card.objects.filter(pk=card.pk).update(certificate_state=CertificateState.ACTIVE)
        lists = ChipDataList.objects.filter(card=card, suspended=True).update(suspended=False)
        report.status = LossStatus.REVOKED
        report.revoked_at = at
        report.revoked_channel = channel
        report.save(update_fields=["status", "revoked_at", "revoked_channel"])
        audit.extra.update({"card": card.pk, "chip_data_lists_restored": lists})
        if report.certificate_suspended:
            (ca or get_citizen_ca()).resume([CardRef(card.pk, card.serial or "")])
        return report


def close_loss_for_reissue(application: Application, *, ca: CitizenCa | None = None) -> LossReport | None:
    """A reissue after loss was applied for: the lost card is void for good (``REISSUED``), its certificate
    revoked (superseded). Runs inside the caller's transaction (the application's submission); returns
    the closed report, or None when the person had no open loss report (e.g. an old paper card was lost).
    """
    if application.kind != Kind.REISSUE_LOSS:
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("close_loss_for_reissue runs inside the submission's transaction")
    report = (LossReport.objects.select_for_update()
              .filter(person_id=application.person_id, status=LossStatus.ACTIVE)
              .select_related("card").first())
    if report is None:
        return None
    card = report.card
    actor = current_actor()
    transition(Card.objects.filter(pk=card.pk), CardState.REISSUED, actor=actor, reason="reissue applied")
    revoke = card.certificate_state in {CertificateState.ACTIVE, CertificateState.SUSPENDED}
    if revoke:
        Card.objects.filter(pk=card.pk).update(certificate_state=CertificateState.REVOKED)
    report.status = LossStatus.REISSUED
    report.reissue_application = application
    report.save(update_fields=["status", "reissue_application"])
    record("operations.loss.reissued", actor=actor, object_type="loss_report", object_id=report.pk,
           extra={"card": card.pk, "application": application.pk, "certificate_revoked": revoke})
    if revoke:
        (ca or get_citizen_ca()).revoke([CardRef(card.pk, card.serial or "")], RevocationReason.SUPERSEDED)
    return report
