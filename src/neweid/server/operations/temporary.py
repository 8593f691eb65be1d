"""Temporary certificates (臨時證明書, DOC-1, MGMT-9) and their verification.

An office issues one when the citizen's new card cannot be handed over on the day of the application. It
carries the person's name, date of birth, sex, ID number and household address (read from the register
when it is issued), the application time, a validity period, notes, a random verification serial and a
QR code leading to the card's status. It is invalid after its last day, once the card is issued, when the
application is cancelled, or when a newer certificate replaces it.

Verification answers with the state and validity only, never personal data: whoever holds the paper
compares it with the person in front of them.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from neweid.server.applications.models import OPEN_STATUSES, Application
from neweid.server.applications.models import Status as ApplicationStatus
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState
from neweid.server.errors import NotFoundError
from neweid.server.operations.errors import BadValidityError, NoOpenApplicationError
from neweid.server.operations.models import TemporaryCertificate
from neweid.server.operations.rules import TAIPEI
from neweid.server.operations.serials import Rng, new_serial, normalise
from neweid.server.operations.staff import staff_office
from neweid.server.registry.models import Person

Clock = Callable[[], datetime.datetime]

DEFAULT_VALIDITY_DAYS = 30
MAX_VALIDITY_DAYS = 90
#: Card states that mean the citizen has (had) the new card in hand.
ISSUED_STATES = frozenset({CardState.ISSUED, CardState.LOST, CardState.REISSUED, CardState.REPLACED})


def validity_days() -> int:
    return int(getattr(settings, "NEWEID_TEMPORARY_CERTIFICATE_DAYS", DEFAULT_VALIDITY_DAYS))


class CertificateState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    CARD_ISSUED = "card_issued"
    WITHDRAWN = "withdrawn"  # handed back, replaced by a newer one, or the application was cancelled
    UNKNOWN = "unknown"  # no certificate has this serial


@dataclass(frozen=True)
class CertificateStatus:
    state: CertificateState
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    office_code: str = ""


class ApplicationProgress(StrEnum):
    """What the QR code's status page tells: where the card is, no personal data."""

    RECEIVED = "received"  # application taken
    IN_PRODUCTION = "in_production"
    AT_OFFICE = "at_office"  # arrived, being checked
    READY = "ready"  # the citizen has been notified: come and collect
    ISSUED = "issued"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


def _person_data(person: Person) -> dict[str, Any]:
    person_row = Person.objects.select_related("household").get(pk=person.pk)
    return {"name": person_row.surname + person_row.given_name, "romanised_name": person_row.romanised_name,
            "birth_date": person_row.birth_date, "sex": person_row.sex, "id_number": person_row.id_number,
            "address": person_row.household.address}


def card_issued_for(application_id: int) -> bool:
    return Card.objects.filter(application_id=application_id, state__in=list(ISSUED_STATES)).exists()


def do_issue_temporary_certificate(application_id: int, *, acting_user: Any, notes: str = "",
                                   days: int | None = None, now: Clock = timezone.now,
                                   rng: Rng = os.urandom) -> TemporaryCertificate:
    """Issue a temporary certificate for an open application; an earlier one for it is withdrawn."""
    with audited_action("operations.temporary_certificate.issue", actor=actor_id(acting_user),
                        object_type="temporary_certificate", extra={"application": application_id}) as audit:
        office = staff_office(acting_user)
        span = validity_days() if days is None else days
        if not 1 <= span <= MAX_VALIDITY_DAYS:
            raise BadValidityError()
        application = (Application.objects.select_for_update().select_related("person")
                       .filter(pk=application_id).first())
        if application is None:
            raise NotFoundError()
        if application.status not in OPEN_STATUSES or card_issued_for(application.pk):
            raise NoOpenApplicationError()
        at = now()
        today = at.astimezone(TAIPEI).date()
        withdrawn = (TemporaryCertificate.objects
                     .filter(application=application, withdrawn_at__isnull=True).update(withdrawn_at=at))
        certificate = TemporaryCertificate(
            application=application, person=application.person, office=office,
            applied_at=application.submitted_at, issued_at=at, valid_from=today,
            valid_until=today + datetime.timedelta(days=span - 1), notes=notes[:500],
            issued_by_staff=actor_id(acting_user), **_person_data(application.person))
        for _attempt in range(3):  # a collision of 100 random bits is not expected; retry anyway
            certificate.serial = new_serial(rng)
            try:
                with transaction.atomic():
                    certificate.save()
                break
            except IntegrityError:
                certificate.pk = None
        else:
            raise RuntimeError("could not draw a unique verification serial")
        audit.object_id = str(certificate.pk)
        audit.extra.update({"valid_until": certificate.valid_until.isoformat(), "withdrawn": withdrawn})
        return certificate


def do_withdraw_temporary_certificate(certificate_id: int, *, acting_user: Any,
                                      now: Clock = timezone.now) -> TemporaryCertificate:
    """The citizen handed the certificate back (at pickup)."""
    with audited_action("operations.temporary_certificate.withdraw", actor=actor_id(acting_user),
                        object_type="temporary_certificate", object_id=certificate_id):
        staff_office(acting_user)
        certificate = TemporaryCertificate.objects.select_for_update().filter(pk=certificate_id).first()
        if certificate is None:
            raise NotFoundError()
        if certificate.withdrawn_at is None:
            certificate.withdrawn_at = now()
            certificate.save(update_fields=["withdrawn_at"])
        return certificate


def _lookup(serial: str) -> TemporaryCertificate | None:
    canonical = normalise(serial)
    if canonical is None:
        return None
    return (TemporaryCertificate.objects.select_related("application", "office")
            .filter(serial=canonical).first())


def status_of(certificate: TemporaryCertificate, *, today: datetime.date) -> CertificateState:
    if certificate.withdrawn_at is not None or certificate.application.status == ApplicationStatus.CANCELLED:
        return CertificateState.WITHDRAWN
    if certificate.application.status == ApplicationStatus.COMPLETED or card_issued_for(
            certificate.application_id):
        return CertificateState.CARD_ISSUED
    if not certificate.valid_from <= today <= certificate.valid_until:
        return CertificateState.EXPIRED
    return CertificateState.VALID


def verify_temporary_certificate(serial: str, *, now: Clock = timezone.now) -> CertificateStatus:
    """Is the certificate with this verification serial genuine and valid today? (public, read-only)"""
    certificate = _lookup(serial)
    if certificate is None:
        return CertificateStatus(CertificateState.UNKNOWN)
    state = status_of(certificate, today=now().astimezone(TAIPEI).date())
    return CertificateStatus(state, certificate.valid_from, certificate.valid_until, certificate.office.code)


_PROGRESS = {
    CardState.ORDERED: ApplicationProgress.IN_PRODUCTION,
    CardState.IN_PRODUCTION: ApplicationProgress.IN_PRODUCTION,
    CardState.PRODUCED: ApplicationProgress.IN_PRODUCTION,
    CardState.SHIPPED: ApplicationProgress.IN_PRODUCTION,
    CardState.DEFECTIVE: ApplicationProgress.IN_PRODUCTION,  # a re-production is on its way
    CardState.RECEIVED: ApplicationProgress.AT_OFFICE,
    CardState.QC_PASSED: ApplicationProgress.AT_OFFICE,
    CardState.NOTIFIED: ApplicationProgress.READY,
}


def application_progress(serial: str) -> ApplicationProgress:
    """The status page behind the certificate's QR code: how far the card has come."""
    certificate = _lookup(serial)
    if certificate is None:
        return ApplicationProgress.UNKNOWN
    application = certificate.application
    if application.status == ApplicationStatus.CANCELLED:
        return ApplicationProgress.CANCELLED
    states = {CardState(s) for s in Card.objects.filter(application_id=application.pk)
              .values_list("state", flat=True)}
    if states & ISSUED_STATES:
        return ApplicationProgress.ISSUED
    for progress in (ApplicationProgress.READY, ApplicationProgress.AT_OFFICE,
                     ApplicationProgress.IN_PRODUCTION):
        if any(_PROGRESS.get(state) is progress for state in states):
            return progress
    return ApplicationProgress.RECEIVED
