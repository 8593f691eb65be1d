"""The applications API (/api/applications/...): thin views over the ``do_*`` actions (MGMT-2..5).

Staff sessions only (the console's session, CSRF-checked, TOTP-verified). Errors are
``{"code", "message"}``; a full pickup quota answers 409 with the alternatives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as Reply

from neweid.server.accounts.access import require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.api.auth import staff_auth
from neweid.server.api.errors import ErrorOut
from neweid.server.applications import actions, notification, quota
from neweid.server.applications.errors import ApplicationErrorCode, ApplicationRefusedError, QuotaFullError
from neweid.server.applications.models import (
    ApplicantRole,
    Application,
    Channel,
    HomeServiceReason,
    Kind,
    NotificationLetter,
    NotificationSchedule,
    ReplacementReason,
    Status,
)
from neweid.server.applications.photo import MAX_PHOTO_BYTES
from neweid.server.applications.rules import ApplicationInput, Documents
from neweid.server.errors import NotFoundError
from neweid.server.registry.interface import HouseholdRegistry
from neweid.server.registry.wiring import household_registry

router = Router(tags=["applications"], auth=staff_auth)

# The registry the views use; tests and deployments may replace it.
registry_factory: Callable[[], HouseholdRegistry] = household_registry
MAX_PAGE = 500


class SubmitIn(Schema):
    id_number: str
    channel: Channel
    kind: Kind
    replacement_reason: ReplacementReason | None = None
    applicant_role: ApplicantRole = ApplicantRole.SELF
    applicant_id_number: str | None = None
    applicant_id_checked: bool = False
    power_of_attorney: bool = False
    other_parent_consent: bool = False
    other_parent_present: bool = False
    certificate_opt_in: bool = True
    home_service_reason: HomeServiceReason | None = None
    pickup_office: str | None = None
    pickup_date: date | None = None
    contact_email: str = ""
    contact_phone: str = ""


class ApplicationOut(Schema):
    id: int
    id_number: str
    status: Status
    channel: Channel
    kind: Kind
    replacement_reason: ReplacementReason | None
    applicant_role: ApplicantRole
    office: str
    pickup_office: str
    pickup_date: date | None
    out_of_district: bool
    certificate_opt_in: bool
    certificate_refusal: str | None
    fee: int
    application_date: date
    age_at_application: int
    renewal_date: date | None
    submitted_at: datetime
    verified_at: datetime | None
    photo_width: int
    photo_height: int


class SlotOut(Schema):
    office: str
    day: date
    remaining: int


class QuotaFullOut(Schema):
    code: str
    message: str
    alternatives: list[SlotOut]


class IdsIn(Schema):
    ids: list[int]


class CountOut(Schema):
    count: int


class QuotaIn(Schema):
    office: str
    first_day: date
    capacity: int
    days: int = 1


class ScheduleIn(Schema):
    village_code: str
    neighbourhood: int | None = None
    day: date
    location: str
    hours: str = ""


class ScheduleOut(Schema):
    id: int
    office: str
    village_code: str
    neighbourhood: int | None
    day: date
    location: str
    scheduled_on: date
    letters: int


class LetterOut(Schema):
    id: int
    household_number: str
    people: int
    url: str
    enclosures: dict[str, int]


def _out(application: Application) -> ApplicationOut:
    return ApplicationOut(
        id=application.pk, id_number=application.person.id_number, status=Status(application.status),
        channel=Channel(application.channel), kind=Kind(application.kind),
        replacement_reason=ReplacementReason(application.replacement_reason)
        if application.replacement_reason else None,
        applicant_role=ApplicantRole(application.applicant_role), office=application.office.code,
        pickup_office=application.pickup_office.code, pickup_date=application.pickup_date,
        out_of_district=application.out_of_district, certificate_opt_in=application.certificate_opt_in,
        certificate_refusal=application.certificate_refusal, fee=application.fee,
        application_date=application.application_date, age_at_application=application.age_at_application,
        renewal_date=application.renewal_date, submitted_at=application.submitted_at,
        verified_at=application.verified_at, photo_width=application.photo_width,
        photo_height=application.photo_height)


def _visible(request: HttpRequest) -> QuerySet[Application]:
    """Applications the staff member may see: those taken in or collected at their office."""
    office = actions.staff_office(request.user)
    return (Application.objects.defer("photo").select_related("person", "office", "pickup_office")
            .filter(Q(office=office) | Q(pickup_office=office)))


def _quota_full(exc: QuotaFullError) -> Reply[QuotaFullOut]:
    return Reply(409, QuotaFullOut(code=str(exc.code), message=str(exc.message),
                             alternatives=[SlotOut(office=s.office_code, day=s.day, remaining=s.remaining)
                                           for s in exc.alternatives]))


@router.post("/", response={201: ApplicationOut, 404: ErrorOut, 409: QuotaFullOut | ErrorOut,
                            422: ErrorOut, 503: ErrorOut},
             summary="Take an application (multipart: fields and the JPEG photo)")
def submit(request: HttpRequest, data: Form[SubmitIn],
           photo: File[UploadedFile]) -> Reply[ApplicationOut] | Reply[QuotaFullOut]:
    if photo.size is None or photo.size > MAX_PHOTO_BYTES:
        raise ApplicationRefusedError(ApplicationErrorCode.PHOTO_TOO_LARGE)
    request_in = ApplicationInput(
        id_number=data.id_number.strip().upper(), channel=data.channel, kind=data.kind, photo=photo.read(),
        replacement_reason=data.replacement_reason, applicant_role=data.applicant_role,
        applicant_id_number=data.applicant_id_number.strip().upper() if data.applicant_id_number else None,
        documents=Documents(applicant_id_checked=data.applicant_id_checked,
                            power_of_attorney=data.power_of_attorney,
                            other_parent_consent=data.other_parent_consent,
                            other_parent_present=data.other_parent_present),
        certificate_opt_in=data.certificate_opt_in, home_service_reason=data.home_service_reason,
        pickup_office_code=data.pickup_office, pickup_date=data.pickup_date,
        contact_email=data.contact_email, contact_phone=data.contact_phone)
    try:
        application = actions.do_submit_application(request_in, acting_user=request.user,
                                                     registry=registry_factory())
    except QuotaFullError as exc:
        return _quota_full(exc)
    return Reply(201, _out(application))


@router.get("/", response={200: list[ApplicationOut], 403: ErrorOut},
            summary="Applications of the signed-in staff member's office, by status")
def list_applications(request: HttpRequest, status: Status | None = None, offset: int = 0,
                      limit: int = 100) -> list[ApplicationOut]:
    rows = _visible(request)
    if status is not None:
        rows = rows.filter(status=status)
    offset, limit = max(offset, 0), min(max(limit, 1), MAX_PAGE)
    return [_out(a) for a in rows.order_by("submitted_at", "pk")[offset:offset + limit]]


@router.get("/quota", response={200: list[SlotOut], 422: ErrorOut},
            summary="Remaining out-of-district pickup places per office and day")
def quota_availability(request: HttpRequest, first_day: date, days: int = 7,
                       offices: Query[list[str] | None] = None) -> list[SlotOut]:
    require(request.user, Capability.OPERATE_CASES)
    chosen = Office.objects.filter(active=True)
    if offices:
        chosen = chosen.filter(code__in=offices)
    slots = quota.availability(chosen, first_day, min(max(days, 1), 31))
    return [SlotOut(office=s.office_code, day=s.day, remaining=s.remaining) for s in slots]


@router.put("/quota", response={200: CountOut, 403: ErrorOut, 422: ErrorOut},
            summary="Set an office's daily out-of-district pickup capacity")
def set_quota(request: HttpRequest, data: QuotaIn) -> CountOut:
    office = Office.objects.filter(code=data.office).first()
    if office is None:
        raise ApplicationRefusedError(ApplicationErrorCode.UNKNOWN_OFFICE)
    return CountOut(count=quota.do_set_quota(office, data.first_day, data.capacity, days=data.days,
                                             acting_user=request.user))


@router.post("/verify", response={200: CountOut, 403: ErrorOut},
             summary="Verify many submitted applications of the office at once")
def verify_many(request: HttpRequest, data: IdsIn) -> CountOut:
    return CountOut(count=actions.do_verify_applications(data.ids, acting_user=request.user))


@router.post("/schedules", response={201: ScheduleOut, 403: ErrorOut, 422: ErrorOut},
             summary="Schedule the replacement of a village or neighbourhood (≥15 days ahead)")
def schedule(request: HttpRequest, data: ScheduleIn) -> Reply[ScheduleOut]:
    created = notification.do_schedule_notification(
        data.village_code, data.day, data.location, neighbourhood=data.neighbourhood, hours=data.hours,
        acting_user=request.user)
    return Reply(201, _schedule_out(created, 0))


def _schedule_out(item: NotificationSchedule, letters: int) -> ScheduleOut:
    return ScheduleOut(id=item.pk, office=item.office.code, village_code=item.village_code,
                       neighbourhood=item.neighbourhood, day=item.date, location=item.location,
                       scheduled_on=item.scheduled_on, letters=letters)


@router.post("/schedules/{schedule_id}/letters", response={200: ScheduleOut, 403: ErrorOut, 404: ErrorOut},
             summary="Produce the per-household letters of a schedule")
def generate_letters(request: HttpRequest, schedule_id: int) -> ScheduleOut:
    notification.do_generate_letters(schedule_id, acting_user=request.user)
    item = NotificationSchedule.objects.select_related("office").get(pk=schedule_id)
    return _schedule_out(item, item.letters.count())


@router.get("/schedules/{schedule_id}/letters", response={200: list[LetterOut], 404: ErrorOut},
            summary="The letters of a schedule")
def list_letters(request: HttpRequest, schedule_id: int, offset: int = 0,
                 limit: int = 100) -> list[LetterOut]:
    office = actions.staff_office(request.user)
    rows = (NotificationLetter.objects.filter(schedule_id=schedule_id, schedule__office=office)
            .select_related("household").order_by("pk"))
    offset, limit = max(offset, 0), min(max(limit, 1), MAX_PAGE)
    return [LetterOut(id=letter.pk, household_number=letter.household.household_number, people=letter.people,
                      url=notification.letter_url(letter), enclosures=letter.enclosures)
            for letter in rows[offset:offset + limit]]


@router.get("/letters/{letter_id}/qr.png", response={404: ErrorOut},
            summary="The QR code of a letter (PNG)")
def letter_qr(request: HttpRequest, letter_id: int) -> HttpResponse:
    office = actions.staff_office(request.user)
    letter = NotificationLetter.objects.filter(pk=letter_id, schedule__office=office).first()
    if letter is None:
        raise NotFoundError()
    return HttpResponse(notification.letter_qr_png(letter), content_type="image/png")


@router.get("/{application_id}", response={200: ApplicationOut, 404: ErrorOut},
            summary="One application")
def get_application(request: HttpRequest, application_id: int) -> ApplicationOut:
    application = _visible(request).filter(pk=application_id).first()
    if application is None:
        raise NotFoundError()
    return _out(application)


@router.post("/{application_id}/verify", response={200: ApplicationOut, 404: ErrorOut, 409: ErrorOut,
                                                   422: ErrorOut, 503: ErrorOut},
             summary="Verify a submitted application against the latest registration")
def verify(request: HttpRequest, application_id: int) -> ApplicationOut:
    actions.do_verify_application(application_id, acting_user=request.user, registry=registry_factory())
    return get_application(request, application_id)


@router.post("/{application_id}/cancel", response={200: ApplicationOut, 404: ErrorOut, 409: ErrorOut},
             summary="Cancel an application not yet sent to production")
def cancel(request: HttpRequest, application_id: int) -> ApplicationOut:
    actions.do_cancel_application(application_id, acting_user=request.user)
    return get_application(request, application_id)
