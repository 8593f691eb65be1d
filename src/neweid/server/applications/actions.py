"""Write actions on applications (``do_*``): atomic, audited, one audit entry per action (also for the
set-based verification of many applications).

The registry is passed in (the simulated one by default) and read before anything is written; the rules
are :mod:`neweid.server.applications.rules`. ``acting_user=None`` is the online portal (MGMT-2): the
citizen signed in there, no staff member acts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from neweid.server.accounts.access import require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.applications.errors import (
    ApplicationConflictError,
    ApplicationErrorCode,
    ApplicationRefusedError,
    QuotaFullError,
)
from neweid.server.applications.models import (
    OPEN_STATUSES,
    ApplicantRole,
    Application,
    Channel,
    NotificationLetter,
    Status,
)
from neweid.server.applications.photo import check_photo
from neweid.server.applications.quota import alternatives, release_place, reserve_place
from neweid.server.applications.rules import (
    ApplicationInput,
    check_id_numbers,
    check_registration_status,
    decide,
    other_parent_id,
)
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.errors import AccessDeniedError, NotFoundError
from neweid.server.registry.errors import PersonNotFoundError
from neweid.server.registry.interface import HouseholdRegistry, PersonRecord
from neweid.server.registry.models import Person
from neweid.server.registry.wiring import household_registry

Clock = Callable[[], datetime]
ONLINE_ACTOR = "online"  # audit actor of applications made on the online portal


def _actor(acting_user: Any) -> str:
    return ONLINE_ACTOR if acting_user is None else actor_id(acting_user)


def staff_office(acting_user: Any) -> Office:
    """The office of a staff member who operates cases (AccessDeniedError without one)."""
    require(acting_user, Capability.OPERATE_CASES)
    office: Office | None = acting_user.staff_profile.office
    if office is None:
        raise AccessDeniedError(_("This needs a staff member of an office."))
    return office


def _office(code: str) -> Office:
    office = Office.objects.filter(code=code, active=True).first()
    if office is None:
        raise ApplicationRefusedError(ApplicationErrorCode.UNKNOWN_OFFICE)
    return office


def _lookup(registry: HouseholdRegistry, id_number: str | None) -> PersonRecord | None:
    if id_number is None:
        return None
    try:
        return registry.person(id_number)
    except PersonNotFoundError:
        return None


def do_submit_application(request: ApplicationInput, *, acting_user: Any,
                          registry: HouseholdRegistry | None = None,
                          clock: Clock = timezone.now) -> Application:
    """Take an application: rules, photo, quota for an out-of-district online pickup, renewal date."""
    registry = registry if registry is not None else household_registry(clock=clock)
    with audited_action("applications.submit", actor=_actor(acting_user), object_type="application",
                        extra={"channel": request.channel.value, "kind": request.kind.value}) as audit:
        now = clock()
        today = timezone.localdate(now)
        if acting_user is None:
            if request.channel is not Channel.ONLINE:
                raise AccessDeniedError()
            office = None
        else:
            office = staff_office(acting_user)
        pickup = _office(request.pickup_office_code) if request.channel is Channel.ONLINE and \
            request.pickup_office_code is not None else office
        taking = office if office is not None else pickup
        check_id_numbers(request)
        photo = check_photo(request.photo)
        if taking is None or pickup is None:
            raise ApplicationRefusedError(ApplicationErrorCode.PICKUP_REQUIRED)
        person = registry.person(request.id_number)
        applicant = _lookup(registry, request.applicant_id_number)
        other_parent = None
        if applicant is not None and request.applicant_role is ApplicantRole.LEGAL_REPRESENTATIVE:
            other_parent = _lookup(registry, other_parent_id(person, applicant))
        notified = NotificationLetter.objects.filter(
            household__household_number=person.household.household_number).exists()
        decision = decide(request, person, applicant, other_parent, application_date=today,
                          office_township=taking.township_code, notified=notified)
        out_of_district = (request.channel is Channel.ONLINE
                           and pickup.township_code != person.household.region.township_code)
        if Application.objects.filter(person__id_number=person.id_number, status__in=OPEN_STATUSES).exists():
            raise ApplicationConflictError(ApplicationErrorCode.OPEN_APPLICATION_EXISTS)
        if out_of_district:
            assert request.pickup_date is not None
            if not reserve_place(pickup.pk, request.pickup_date):
                raise QuotaFullError(alternatives(pickup, request.pickup_date, today=today))
        rows = {p.id_number: p for p in Person.objects.filter(
            id_number__in=[person.id_number] + ([applicant.id_number] if applicant is not None else []))}
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    person=rows[person.id_number],
                    applicant=rows[applicant.id_number] if applicant is not None
                    and request.applicant_role is not ApplicantRole.SELF else None,
                    applicant_role=request.applicant_role,
                    applicant_id_checked=request.documents.applicant_id_checked,
                    power_of_attorney=request.documents.power_of_attorney,
                    other_parent_consent=request.documents.other_parent_consent,
                    other_parent_present=request.documents.other_parent_present,
                    home_service_reason=decision.home_service_reason,
                    office=taking, pickup_office=pickup, out_of_district=out_of_district,
                    channel=request.channel, kind=request.kind, replacement_reason=request.replacement_reason,
                    certificate_opt_in=decision.certificate_opt_in,
                    certificate_refusal=decision.certificate_refusal,
                    photo=request.photo, photo_width=photo.width, photo_height=photo.height,
                    fee=decision.fee, application_date=today, age_at_application=decision.age,
                    renewal_date=decision.renewal_date, submitted_at=now,
                    submitted_by="" if acting_user is None else actor_id(acting_user),
                    pickup_date=request.pickup_date,
                    contact_email=request.contact_email.strip(), contact_phone=request.contact_phone.strip())
        except IntegrityError:  # a concurrent application for the same person won
            raise ApplicationConflictError(ApplicationErrorCode.OPEN_APPLICATION_EXISTS) from None
        audit.object_id = str(application.pk)
        audit.extra.update({"office": taking.code, "pickup_office": pickup.code,
                            "out_of_district": out_of_district,
                            "certificate": decision.certificate_refusal.value
                            if decision.certificate_refusal is not None else "attached"})
        return application


def _for_office(application_id: int, office: Office) -> Application:
    """The application, locked; NotFound for other offices' applications (missing and forbidden alike)."""
    application = (Application.objects.select_for_update().defer("photo")
                   .filter(pk=application_id, office=office).first())
    if application is None:
        raise NotFoundError()
    return application


def do_verify_application(application_id: int, *, acting_user: Any,
                          registry: HouseholdRegistry | None = None,
                          clock: Clock = timezone.now) -> Application:
    """The office checks a submitted application against the latest registration (資料審核) and marks
    it verified, ready for batching."""
    registry = registry if registry is not None else household_registry(clock=clock)
    with audited_action("applications.verify", actor=actor_id(acting_user), object_type="application",
                        object_id=application_id):
        office = staff_office(acting_user)
        application = _for_office(application_id, office)
        if application.status != Status.SUBMITTED:
            raise ApplicationConflictError(ApplicationErrorCode.WRONG_STATE)
        check_registration_status(registry.person(application.person.id_number))
        application.status = Status.VERIFIED
        application.verified_at = clock()
        application.verified_by = actor_id(acting_user)
        application.save(update_fields=["status", "verified_at", "verified_by"])
        return application


def do_verify_applications(application_ids: Iterable[int], *, acting_user: Any,
                           clock: Clock = timezone.now) -> int:
    """Verify many submitted applications of the actor's office at once: one UPDATE, one audit entry.
    Others (other offices, other states) are left alone; returns how many were verified."""
    ids = sorted(set(application_ids))
    with audited_action("applications.verify_batch", actor=actor_id(acting_user), object_type="application",
                        extra={"requested": len(ids)}) as audit:
        office = staff_office(acting_user)
        count = (Application.objects.filter(pk__in=ids, office=office, status=Status.SUBMITTED)
                 .update(status=Status.VERIFIED, verified_at=clock(), verified_by=actor_id(acting_user)))
        audit.extra["verified"] = count
        return count


def do_cancel_application(application_id: int, *, acting_user: Any,
                          clock: Clock = timezone.now) -> Application:
    """Withdraw an application not yet sent to production; its out-of-district place is given back."""
    with audited_action("applications.cancel", actor=actor_id(acting_user), object_type="application",
                        object_id=application_id):
        office = staff_office(acting_user)
        application = _for_office(application_id, office)
        if application.status not in (Status.SUBMITTED, Status.VERIFIED):
            raise ApplicationConflictError(ApplicationErrorCode.WRONG_STATE)
        if application.out_of_district and application.pickup_date is not None:
            release_place(application.pickup_office_id, application.pickup_date)
        application.status = Status.CANCELLED
        application.cancelled_at = clock()
        application.save(update_fields=["status", "cancelled_at"])
        return application
