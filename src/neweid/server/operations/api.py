"""The operations API: thin views over the ``do_*`` actions.

Routers (mounted in :mod:`neweid.server.api.root`): ``/api/loss``, ``/api/temporary-certificates``,
``/api/chip-updates``, ``/api/voiding``, ``/api/recalls``, ``/api/statistics``. Staff sessions only,
except the public verification of temporary certificates and chip data lists and the card status behind
the certificate's QR code, which show no personal data. Errors are ``{"code", "message"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as Reply

from neweid.formats.idnumber import is_valid_id_number
from neweid.server.api.auth import staff_auth
from neweid.server.api.errors import ErrorOut
from neweid.server.cards.states import VoidReason
from neweid.server.errors import NotFoundError, ValidationFailedError
from neweid.server.operations import chip_updates, chipdata, loss, recall, statistics, temporary, voiding
from neweid.server.operations.models import (
    ChipUpdate,
    LossChannel,
    LossReport,
    RecallItemStatus,
    RecallRemedy,
    VoidingList,
    VoidingListKind,
)
from neweid.server.operations.serials import display
from neweid.server.operations.views import status_page_url
from neweid.server.registry.interface import HouseholdRegistry
from neweid.server.registry.models import Person
from neweid.server.registry.wiring import household_registry

# The registry the views use; tests and deployments may replace it.
registry_factory: Callable[[], HouseholdRegistry] = household_registry
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                          422: ErrorOut, 503: ErrorOut}

loss_router = Router(tags=["loss"], auth=staff_auth)
temporary_router = Router(tags=["temporary certificates"], auth=staff_auth)
chip_updates_router = Router(tags=["chip updates"], auth=staff_auth)
voiding_router = Router(tags=["voiding"], auth=staff_auth)
recalls_router = Router(tags=["recalls"], auth=staff_auth)
statistics_router = Router(tags=["statistics"], auth=staff_auth)


def _person(id_number: str) -> Person:
    if not is_valid_id_number(id_number.strip().upper()):
        raise ValidationFailedError()
    person = Person.objects.filter(id_number=id_number.strip().upper()).first()
    if person is None:
        raise NotFoundError()
    return person


# -- loss ---------------------------------------------------------------------------------------------------

class LossIn(Schema):
    id_number: str
    channel: LossChannel
    reporter_id_number: str | None = None  # the legal representative; None: the person


class LossOut(Schema):
    id: int
    card_serial: str
    status: str
    channel: str
    reporter_role: str
    office: str | None
    reported_at: datetime
    revoked_at: datetime | None


def _loss_out(report: LossReport) -> LossOut:
    return LossOut(id=report.pk, card_serial=report.card.serial, status=report.status, channel=report.channel,
                   reporter_role=report.reporter_role, office=report.office.code if report.office else None,
                   reported_at=report.reported_at, revoked_at=report.revoked_at)


def _loss_args(body: LossIn) -> dict[str, Any]:
    if body.channel == LossChannel.ONLINE:  # the citizen site's, not the staff API's
        raise ValidationFailedError()
    return {"channel": body.channel,
            "reporter": _person(body.reporter_id_number) if body.reporter_id_number else None}


@loss_router.post("/reports", response={201: LossOut, **ERRORS}, summary="Report a card lost (MGMT-10)")
def report_loss(request: HttpRequest, body: LossIn) -> Reply[LossOut]:
    report = loss.do_report_loss(_person(body.id_number), acting_user=request.user, **_loss_args(body))
    return Reply(201, _loss_out(report))


@loss_router.post("/revocations", response={200: LossOut, **ERRORS}, summary="Revoke a loss report")
def revoke_loss(request: HttpRequest, body: LossIn) -> LossOut:
    report = loss.do_revoke_loss(_person(body.id_number), acting_user=request.user, **_loss_args(body))
    return _loss_out(report)


class VerificationOut(Schema):
    state: str
    valid_from: date | None = None
    valid_until: date | None = None
    office: str = ""


@loss_router.get("/chip-data-lists/{serial}", auth=None, response={200: VerificationOut},
                 summary="Verify a chip data list by its serial (public, DOC-2)")
def verify_chip_data_list(request: HttpRequest, serial: str) -> VerificationOut:
    return VerificationOut(state=chipdata.verify_chip_data_list(serial[:40]).state.value)


# -- temporary certificates ---------------------------------------------------------------------------------

class TemporaryIn(Schema):
    application_id: int
    notes: str = ""
    days: int | None = None


class TemporaryOut(Schema):
    id: int
    serial: str
    application_id: int
    valid_from: date
    valid_until: date
    record_url: str
    status_url: str


def _record_url(certificate_id: int) -> str:
    try:
        return reverse("operations:temporary_certificate", args=[certificate_id])
    except NoReverseMatch:  # the console pages are not mounted
        return ""


@temporary_router.post("", response={201: TemporaryOut, **ERRORS}, summary="Issue a temporary certificate")
def issue_temporary(request: HttpRequest, body: TemporaryIn) -> Reply[TemporaryOut]:
    certificate = temporary.do_issue_temporary_certificate(body.application_id, acting_user=request.user,
                                                           notes=body.notes, days=body.days)
    return Reply(201, TemporaryOut(id=certificate.pk, serial=display(certificate.serial),
                                   application_id=certificate.application_id,
                                   valid_from=certificate.valid_from, valid_until=certificate.valid_until,
                                   record_url=_record_url(certificate.pk),
                                   status_url=status_page_url(request, certificate.serial)))


@temporary_router.post("/{certificate_id}/withdrawal", response={204: None, **ERRORS},
                       summary="The citizen handed the certificate back")
def withdraw_temporary(request: HttpRequest, certificate_id: int) -> Reply[None]:
    temporary.do_withdraw_temporary_certificate(certificate_id, acting_user=request.user)
    return Reply(204, None)


@temporary_router.get("/verification/{serial}", auth=None, response={200: VerificationOut},
                      summary="Verify a temporary certificate by its serial (public)")
def verify_temporary(request: HttpRequest, serial: str) -> VerificationOut:
    status = temporary.verify_temporary_certificate(serial[:40])
    return VerificationOut(state=status.state.value, valid_from=status.valid_from,
                           valid_until=status.valid_until, office=status.office_code)


class ProgressOut(Schema):
    progress: str


@temporary_router.get("/status/{serial}", auth=None, response={200: ProgressOut},
                      url_name="temporary_certificate_status",
                      summary="The card's status behind the certificate's QR code (public)")
def temporary_status(request: HttpRequest, serial: str) -> ProgressOut:
    return ProgressOut(progress=temporary.application_progress(serial[:40]).value)


# -- chip updates -------------------------------------------------------------------------------------------

class ChipUpdateIn(Schema):
    card_id: int
    fields: list[str]
    reason: str = ""


class ChipUpdateOut(Schema):
    id: int
    card_id: int
    status: str
    fields: list[str]
    approval_id: int | None


def _chip_out(update: ChipUpdate) -> ChipUpdateOut:
    return ChipUpdateOut(id=update.pk, card_id=update.card_id, status=update.status,
                         fields=list(update.fields), approval_id=update.approval_id)


@chip_updates_router.post("", response={201: ChipUpdateOut, **ERRORS},
                          summary="Request a chip content update (MGMT-11; maker–checker)")
def request_chip_update(request: HttpRequest, body: ChipUpdateIn) -> Reply[ChipUpdateOut]:
    update = chip_updates.do_request_chip_update(body.card_id, body.fields[:20], acting_user=request.user,
                                                 reason=body.reason, registry=registry_factory())
    return Reply(201, _chip_out(update))


@chip_updates_router.post("/{update_id}/written", response={200: ChipUpdateOut, **ERRORS},
                          summary="Record that the approved update was written to the chip")
def chip_written(request: HttpRequest, update_id: int) -> ChipUpdateOut:
    return _chip_out(chip_updates.do_record_chip_written(update_id, acting_user=request.user))


# -- voiding ------------------------------------------------------------------------------------------------

class VoidingIn(Schema):
    card_ids: list[int]
    reason: VoidReason
    note: str = ""


class VoidingOut(Schema):
    id: int
    status: str
    cards: int
    approval_id: int | None


@voiding_router.post("/requests", response={201: VoidingOut, **ERRORS},
                     summary="Ask to void cards (MGMT-12; maker–checker)")
def request_voiding(request: HttpRequest, body: VoidingIn) -> Reply[VoidingOut]:
    voiding_request = voiding.do_request_voiding(body.card_ids, body.reason, acting_user=request.user,
                                                 note=body.note)
    return Reply(201, VoidingOut(id=voiding_request.pk, status=voiding_request.status,
                                 cards=len(voiding_request.card_ids),
                                 approval_id=voiding_request.approval_id))


class ListIn(Schema):
    kind: VoidingListKind


class ListOut(Schema):
    id: int
    kind: str
    status: str
    cards: int
    serials: list[str]


def _list_out(voiding_list: VoidingList) -> ListOut:
    return ListOut(id=voiding_list.pk, kind=voiding_list.kind, status=voiding_list.status,
                   cards=voiding_list.card_count,
                   serials=list(voiding_list.items.order_by("serial").values_list("serial", flat=True)))


@voiding_router.post("/lists", response={201: ListOut, **ERRORS}, summary="List the office's voided cards")
def compile_list(request: HttpRequest, body: ListIn) -> Reply[ListOut]:
    return Reply(201, _list_out(voiding.do_compile_voiding_list(body.kind, acting_user=request.user)))


@voiding_router.post("/lists/{list_id}/sending", response={200: ListOut, **ERRORS},
                     summary="Send the list (to the production centre or the city/county)")
def send_list(request: HttpRequest, list_id: int) -> ListOut:
    return _list_out(voiding.do_send_voiding_list(list_id, acting_user=request.user))


class DestructionIn(Schema):
    place: str
    method: str
    destroyed_at: datetime


class DestructionOut(Schema):
    list_id: int
    cards: int
    destroyed_by: str
    reported_to_moi_at: datetime


@voiding_router.post("/lists/{list_id}/destruction", response={201: DestructionOut, **ERRORS},
                     summary="Record the destruction of a list's cards (reported to MOI)")
def record_destruction(request: HttpRequest, list_id: int, body: DestructionIn) -> Reply[DestructionOut]:
    record = voiding.do_record_destruction(list_id, place=body.place, method=body.method,
                                           destroyed_at=body.destroyed_at, acting_user=request.user)
    return Reply(201, DestructionOut(list_id=list_id, cards=record.card_count,
                                     destroyed_by=record.destroyed_by,
                                     reported_to_moi_at=record.reported_to_moi_at))


# -- recalls ------------------------------------------------------------------------------------------------

class RecallIn(Schema):
    title: str
    reason: str
    remedy: RecallRemedy
    batch_ids: list[int] = Field(default_factory=list)
    serial_ranges: list[tuple[str, str]] = Field(default_factory=list)
    chip_lots: list[str] = Field(default_factory=list)


class RecallOut(Schema):
    id: int
    status: str
    remedy: str
    cards: int
    approval_id: int | None


@recalls_router.post("", response={201: RecallOut, **ERRORS},
                     summary="Scope a recall (MGMT-14; maker–checker)")
def request_recall(request: HttpRequest, body: RecallIn) -> Reply[RecallOut]:
    scope = recall.RecallScope(tuple(body.batch_ids), tuple(body.serial_ranges), tuple(body.chip_lots))
    created = recall.do_request_recall(body.title, body.reason, body.remedy, scope, acting_user=request.user)
    return Reply(201, RecallOut(id=created.pk, status=created.status, remedy=created.remedy,
                                cards=created.card_count, approval_id=created.approval_id))


class OfficeProgressOut(Schema):
    office: str
    counts: dict[str, int]
    total: int


@recalls_router.get("/{recall_id}/progress", response={200: list[OfficeProgressOut], **ERRORS},
                    summary="Per office progress")
def progress(request: HttpRequest, recall_id: int) -> list[OfficeProgressOut]:
    return [OfficeProgressOut(office=row.office_code, counts=row.counts, total=row.total)
            for row in recall.recall_progress(recall_id, acting_user=request.user)]


class ProgressIn(Schema):
    card_ids: list[int]
    status: RecallItemStatus


class CountOut(Schema):
    count: int


@recalls_router.post("/{recall_id}/progress", response={200: CountOut, **ERRORS},
                     summary="Record the remedy for cards of the office")
def record_progress(request: HttpRequest, recall_id: int, body: ProgressIn) -> CountOut:
    return CountOut(count=recall.do_record_recall_progress(recall_id, body.card_ids, body.status,
                                                           acting_user=request.user))


@recalls_router.post("/{recall_id}/api-suspension-lifting", response={200: CountOut, **ERRORS},
                     summary="Lift the agencies' API suspension")
def lift_suspension(request: HttpRequest, recall_id: int) -> CountOut:
    return CountOut(count=recall.do_lift_api_suspension(recall_id, acting_user=request.user))


@recalls_router.post("/{recall_id}/closing", response={200: RecallOut, **ERRORS}, summary="Close the recall")
def close_recall(request: HttpRequest, recall_id: int) -> RecallOut:
    closed = recall.do_close_recall(recall_id, acting_user=request.user)
    return RecallOut(id=closed.pk, status=closed.status, remedy=closed.remedy, cards=closed.card_count,
                     approval_id=closed.approval_id)


# -- statistics ---------------------------------------------------------------------------------------------

class StatisticsQuery(Schema):
    first_day: date
    last_day: date | None = None
    office: str | None = None
    county: str | None = None


class ApplicationRowOut(Schema):
    day: date
    office: str
    kind: str
    status: str
    count: int


class CardRowOut(Schema):
    day: date
    office: str
    state: str
    count: int


class StatisticsOut(Schema):
    first_day: date
    last_day: date
    applications: list[ApplicationRowOut]
    cards: list[CardRowOut]


@statistics_router.get("/daily", response={200: StatisticsOut, **ERRORS},
                       summary="Applications and card state changes per day and office (MGMT-13)")
def daily(request: HttpRequest, query: Query[StatisticsQuery]) -> StatisticsOut:
    table = statistics.daily_statistics(acting_user=request.user, first_day=query.first_day,
                                        last_day=query.last_day, office_code=query.office,
                                        county_code=query.county)
    return StatisticsOut(
        first_day=table.first_day, last_day=table.last_day,
        applications=[ApplicationRowOut(day=a.day, office=a.office_code, kind=a.kind, status=a.status,
                                        count=a.count) for a in table.applications],
        cards=[CardRowOut(day=c.day, office=c.office_code, state=c.state, count=c.count)
               for c in table.cards])


class ReportIn(Schema):
    day: date


class ReportOut(Schema):
    office: str
    day: date
    figures: dict[str, Any]
    reported_at: datetime


@statistics_router.post("/daily-reports", response={201: ReportOut, **ERRORS},
                        summary="Report the office's day to the city/county and MOI")
def report_day(request: HttpRequest, body: ReportIn) -> Reply[ReportOut]:
    report = statistics.do_report_day(body.day, acting_user=request.user)
    return Reply(201, ReportOut(office=report.office.code, day=report.day, figures=report.figures,
                                reported_at=report.reported_at))


class ReportsQuery(Schema):
    day: date
    county: str | None = None


@statistics_router.get("/daily-reports", response={200: list[ReportOut], **ERRORS},
                       summary="The offices' reports of a day (city/county, MOI)")
def list_reports(request: HttpRequest, query: Query[ReportsQuery]) -> list[ReportOut]:
    return [ReportOut(office=r.office.code, day=r.day, figures=r.figures, reported_at=r.reported_at)
            for r in statistics.reports(acting_user=request.user, day=query.day, county_code=query.county)]
