"""Voiding and destruction (MGMT-12), daily statistics (MGMT-13), recall (MGMT-14)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from neweid.server.accounts.approvals import do_approve, do_reject
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Kind, Status
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.ca import SimulatedCitizenCa
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.states import CardState, CertificateState, VoidReason
from neweid.server.errors import AccessDeniedError, ErrorCode, NotFoundError
from neweid.server.operations.errors import (
    BadRecallScopeError,
    EmptyRecallError,
    NothingToListError,
    OutOfScopeError,
    RecallStateError,
    VoidingListStateError,
    VoidingNotAllowedError,
)
from neweid.server.operations.models import (
    AgencyNotification,
    ApiSuspension,
    CitizenNotification,
    NotificationChannel,
    RecallItem,
    RecallItemStatus,
    RecallRemedy,
    RecallStatus,
    RevocationPublication,
    VoidingListKind,
    VoidingListStatus,
    VoidingRequestStatus,
)
from neweid.server.operations.recall import (
    RecallScope,
    do_close_recall,
    do_lift_api_suspension,
    do_record_recall_progress,
    do_request_recall,
    recall_progress,
    suspended_zones,
)
from neweid.server.operations.statistics import daily_statistics, do_report_day, reports
from neweid.server.operations.voiding import (
    do_compile_voiding_list,
    do_record_destruction,
    do_request_voiding,
    do_send_voiding_list,
)
from tests.server.conftest import StaffAccount
from tests.server.test_operations_support import (
    NOW,
    TODAY,
    make_application,
    make_batch,
    make_card,
    make_person,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ca(monkeypatch: pytest.MonkeyPatch) -> SimulatedCitizenCa:
    simulated = SimulatedCitizenCa()
    monkeypatch.setattr("neweid.server.operations.voiding.get_citizen_ca", lambda: simulated)
    return simulated


@pytest.fixture
def clerk(make_staff: Callable[..., StaffAccount]) -> object:
    return make_staff(Role.OFFICE_CLERK).user


@pytest.fixture
def supervisor(make_staff: Callable[..., StaffAccount]) -> object:
    return make_staff(Role.OFFICE_SUPERVISOR).user


# -- voiding ------------------------------------------------------------------------------------------------


def test_voiding_needs_a_second_person(clerk: object, supervisor: object, office: Office,
                                       ca: SimulatedCitizenCa) -> None:
    cards = [make_card(make_person(), office, state=CardState.QC_PASSED) for _ in range(3)]
    request = do_request_voiding([c.pk for c in cards], VoidReason.EMIGRATED, acting_user=clerk)
    assert set(Card.objects.values_list("state", flat=True)) == {CardState.QC_PASSED}  # nothing yet
    assert request.approval is not None
    with pytest.raises(AccessDeniedError) as same:
        do_approve(request.approval.pk, acting_user=clerk)
    assert same.value.code == ErrorCode.SAME_PERSON
    do_approve(request.approval.pk, acting_user=supervisor)
    request.refresh_from_db()
    assert request.status == VoidingRequestStatus.APPROVED
    assert set(Card.objects.values_list("state", "void_reason", "certificate_state")) == {
        (CardState.VOIDED, VoidReason.EMIGRATED, CertificateState.REVOKED)}
    assert ca.calls[-1][0] == "revoke" and len(ca.calls[-1][1]) == 3
    assert RevocationPublication.objects.count() == 3
    assert CardEvent.objects.filter(to_state=CardState.VOIDED).count() == 3
    assert AuditEntry.objects.filter(function="operations.voiding.executed").count() == 1  # one per batch


def test_rejected_voiding_changes_nothing(clerk: object, supervisor: object, office: Office) -> None:
    card = make_card(make_person(), office, state=CardState.RECEIVED)
    request = do_request_voiding([card.pk], VoidReason.DEAD, acting_user=clerk)
    assert request.approval is not None
    do_reject(request.approval.pk, "not dead", acting_user=supervisor)
    request.refresh_from_db()
    card.refresh_from_db()
    assert request.status == VoidingRequestStatus.REJECTED and card.state == CardState.RECEIVED


def test_voiding_refusals(clerk: object, office: Office, other_office: Office) -> None:
    shipped = make_card(make_person(), office, state=CardState.SHIPPED)
    with pytest.raises(VoidingNotAllowedError):
        do_request_voiding([shipped.pk], VoidReason.DEAD, acting_user=clerk)
    elsewhere = make_card(make_person(), other_office, state=CardState.QC_PASSED)
    with pytest.raises(NotFoundError):  # another office's card: missing and forbidden alike
        do_request_voiding([elsewhere.pk], VoidReason.DEAD, acting_user=clerk)


def test_lists_destruction_and_moi_report(clerk: object, office: Office,
                                          make_staff: Callable[..., StaffAccount]) -> None:
    defective = [make_card(make_person(), office, state=CardState.DEFECTIVE) for _ in range(2)]
    make_card(make_person(), office, state=CardState.DEFECTIVE, arrived=False)  # found by the centre itself
    voided = make_card(make_person(), office, state=CardState.VOIDED)
    replaced = make_card(make_person(), office, state=CardState.REPLACED)

    returns = do_compile_voiding_list(VoidingListKind.DEFECTIVE_RETURN, acting_user=clerk)
    assert returns.card_count == 2
    assert {i.card_id for i in returns.items.all()} == {c.pk for c in defective}
    central = do_compile_voiding_list(VoidingListKind.CENTRAL_DESTRUCTION, acting_user=clerk)
    assert {i.card_id for i in central.items.all()} == {voided.pk, replaced.pk}
    with pytest.raises(NothingToListError):  # everything is listed once
        do_compile_voiding_list(VoidingListKind.CENTRAL_DESTRUCTION, acting_user=clerk)

    with pytest.raises(VoidingListStateError):  # not sent yet
        do_record_destruction(returns.pk, place="製卡中心", method="shredding", destroyed_at=NOW,
                              acting_user=clerk)
    do_send_voiding_list(returns.pk, acting_user=clerk)
    record = do_record_destruction(returns.pk, place="製卡中心", method="shredding", destroyed_at=NOW,
                                   acting_user=clerk)
    assert record.destroyed_by == "production_centre" and record.card_count == 2
    assert record.reported_to_moi_at is not None
    assert set(Card.objects.filter(pk__in=[c.pk for c in defective]).values_list("state", flat=True)) == {
        CardState.DESTROYED}

    do_send_voiding_list(central.pk, acting_user=clerk)
    with pytest.raises(AccessDeniedError):  # central destruction is the city/county's
        do_record_destruction(central.pk, place="臺北市政府", method="shredding", destroyed_at=NOW,
                              acting_user=clerk)
    county = make_staff(Role.COUNTY_OFFICER, with_office=True).user  # an office of Taipei
    destruction = do_record_destruction(central.pk, place="臺北市政府", method="shredding", destroyed_at=NOW,
                                        acting_user=county)
    assert destruction.destroyed_by == "county:63000"
    central.refresh_from_db()
    assert central.status == VoidingListStatus.DESTROYED
    assert AuditEntry.objects.filter(function__startswith="operations.voiding_list.",
                                     result="success").count() == 6


# -- statistics ---------------------------------------------------------------------------------------------


def _some_activity(office: Office, other_office: Office) -> None:
    for _ in range(3):
        make_application(make_person(), office, status=Status.SUBMITTED)
    make_application(make_person(), office, kind=Kind.REISSUE_LOSS, status=Status.SUBMITTED)
    make_application(make_person(), other_office, status=Status.SUBMITTED)
    for _ in range(2):
        make_card(make_person(), office, state=CardState.RECEIVED)  # one RECEIVED event each
    make_card(make_person(), other_office, state=CardState.RECEIVED)


def test_daily_statistics_group_by_office_day_and_state(office: Office, other_office: Office,
                                                        make_staff: Callable[..., StaffAccount]) -> None:
    _some_activity(office, other_office)
    moi = make_staff(Role.MOI_ADMIN).user
    with CaptureQueriesContext(connection) as queries:
        table = daily_statistics(acting_user=moi, first_day=TODAY)
    aggregation = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(aggregation) == 2  # one per table, whatever the number of rows
    counts = {(a.office_code, a.kind, a.status): a.count for a in table.applications}
    assert counts[(office.code, Kind.NATIONWIDE_REPLACEMENT, Status.SUBMITTED)] >= 3
    assert counts[(office.code, Kind.REISSUE_LOSS, Status.SUBMITTED)] == 1
    assert counts[(other_office.code, Kind.NATIONWIDE_REPLACEMENT, Status.SUBMITTED)] >= 1
    received = {(c.office_code, c.state): c.count for c in table.cards}
    assert received[(office.code, CardState.RECEIVED)] == 2
    assert all(a.day == TODAY for a in table.applications)
    assert daily_statistics(acting_user=moi, first_day=date(2026, 9, 30)).applications == ()


def test_statistics_views_per_role(office: Office, other_office: Office,
                                   make_staff: Callable[..., StaffAccount]) -> None:
    _some_activity(office, other_office)
    clerk = make_staff(Role.OFFICE_CLERK).user
    own = daily_statistics(acting_user=clerk, first_day=TODAY)
    assert {a.office_code for a in own.applications} == {office.code}
    with pytest.raises(OutOfScopeError):
        daily_statistics(acting_user=clerk, first_day=TODAY, office_code=other_office.code)
    county = make_staff(Role.COUNTY_OFFICER, with_office=True).user  # Taipei
    taipei = daily_statistics(acting_user=county, first_day=TODAY)
    assert {a.office_code for a in taipei.applications} == {office.code}
    with pytest.raises(OutOfScopeError):
        daily_statistics(acting_user=county, first_day=TODAY, county_code=other_office.county_code)
    with pytest.raises(AccessDeniedError):
        daily_statistics(acting_user=make_staff(Role.AUDITOR).user, first_day=TODAY)
    national = daily_statistics(acting_user=make_staff(Role.MOI_ADMIN).user, first_day=TODAY)
    assert {a.office_code for a in national.applications} == {office.code, other_office.code}


def test_office_reports_its_day_to_county_and_moi(office: Office, other_office: Office,
                                                  make_staff: Callable[..., StaffAccount]) -> None:
    _some_activity(office, other_office)
    clerk = make_staff(Role.OFFICE_CLERK).user
    report = do_report_day(TODAY, acting_user=clerk)
    assert report.figures["applications"][Kind.REISSUE_LOSS] == {Status.SUBMITTED: 1}
    assert report.figures["cards"][CardState.RECEIVED] == 2
    again = do_report_day(TODAY, acting_user=clerk)  # the later report of the day replaces the earlier
    assert again.pk == report.pk
    county = make_staff(Role.COUNTY_OFFICER, with_office=True).user
    assert [r.office.code for r in reports(acting_user=county, day=TODAY)] == [office.code]
    moi = make_staff(Role.MOI_ADMIN).user
    assert len(reports(acting_user=moi, day=TODAY)) == 1
    with pytest.raises(AccessDeniedError):  # MOI has no office: reporting is the office's job
        do_report_day(TODAY, acting_user=moi)


# -- recall -------------------------------------------------------------------------------------------------


@pytest.fixture
def recall_ca(monkeypatch: pytest.MonkeyPatch) -> SimulatedCitizenCa:
    simulated = SimulatedCitizenCa()
    monkeypatch.setattr("neweid.server.operations.voiding.get_citizen_ca", lambda: simulated)
    return simulated


def test_recall_lists_revokes_suspends_and_notifies(office: Office, make_staff: Callable[..., StaffAccount],
                                                    recall_ca: SimulatedCitizenCa) -> None:
    batch = make_batch()
    in_hand = [make_card(p, office, batch=batch, application=make_application(p, office, email=e, phone=ph))
               for p, e, ph in ((make_person(), "a@example.org", ""), (make_person(), "", "0912345678"),
                                (make_person(), "", ""))]
    at_office = make_card(make_person(), office, batch=batch, state=CardState.NOTIFIED)
    make_card(make_person(), office, batch=batch, state=CardState.VOIDED)  # already void: not recalled
    make_card(make_person(), office, serial="ZZ0000001")  # another batch, outside the range
    in_range = make_card(make_person(), office, serial="ZZ0000500")
    moi, other_moi = make_staff(Role.MOI_ADMIN).user, make_staff(Role.MOI_ADMIN).user
    scope = RecallScope(batch_ids=(batch.pk,), serial_ranges=(("ZZ0000100", "ZZ0000900"),))

    with pytest.raises(AccessDeniedError):  # a recall is MOI's
        do_request_recall("t", "r", RecallRemedy.REPLACEMENT, scope, acting_user=make_staff(
            Role.OFFICE_SUPERVISOR).user)
    recall = do_request_recall("Chip flaw", "side channel in lot X", RecallRemedy.REPLACEMENT, scope,
                               acting_user=moi)
    assert recall.status == RecallStatus.PENDING and recall.card_count == 5
    assert recall.approval is not None
    with pytest.raises(AccessDeniedError):  # an office supervisor may not approve it
        do_approve(recall.approval.pk, acting_user=make_staff(Role.OFFICE_SUPERVISOR).user)
    do_approve(recall.approval.pk, acting_user=other_moi)

    recall.refresh_from_db()
    assert recall.status == RecallStatus.ACTIVE
    assert set(RecallItem.objects.filter(recall=recall).values_list("card_id", flat=True)) == {
        *(c.pk for c in in_hand), at_office.pk, in_range.pk}
    assert recall_ca.calls[-1] == ("revoke", tuple(sorted(c.serial for c in [*in_hand, at_office, in_range])),
                                   "keyCompromise")
    assert RevocationPublication.objects.filter(recall=recall, published_at__isnull=True).count() == 5
    assert set(Card.objects.filter(pk=in_hand[0].pk).values_list("certificate_state", flat=True)) == {
        CertificateState.REVOKED}
    assert suspended_zones() == ["certificate", "encrypted", "public"]
    assert AgencyNotification.objects.filter(recall=recall, subject="api_suspended").count() == 1
    channels = dict(CitizenNotification.objects.filter(recall=recall).values_list("card_id", "channel"))
    assert channels == {in_hand[0].pk: NotificationChannel.EMAIL, in_hand[1].pk: NotificationChannel.SMS,
                        in_hand[2].pk: NotificationChannel.LETTER, in_range.pk: NotificationChannel.LETTER}

    clerk = make_staff(Role.OFFICE_CLERK).user
    with pytest.raises(RecallStateError):  # the remedy is replacement, not firmware
        do_record_recall_progress(recall.pk, [in_hand[0].pk], RecallItemStatus.FIRMWARE_UPDATED,
                                  acting_user=clerk)
    assert do_record_recall_progress(recall.pk, [in_hand[0].pk, in_hand[1].pk],
                                     RecallItemStatus.REPLACEMENT_APPLIED, acting_user=clerk) == 2
    progress = recall_progress(recall.pk, acting_user=moi)
    assert len(progress) == 1 and progress[0].office_code == office.code
    assert progress[0].counts == {"replacement_applied": 2, "notified": 3} and progress[0].total == 5

    with pytest.raises(RecallStateError):  # the APIs are still suspended
        do_close_recall(recall.pk, acting_user=moi)
    assert do_lift_api_suspension(recall.pk, acting_user=moi) == 3
    assert suspended_zones() == []
    closed = do_close_recall(recall.pk, acting_user=moi)
    assert closed.status == RecallStatus.CLOSED
    assert AuditEntry.objects.filter(function="operations.recall.activated").count() == 1


def test_recall_scope_rules(office: Office, make_staff: Callable[..., StaffAccount]) -> None:
    moi = make_staff(Role.MOI_ADMIN).user
    for bad in (RecallScope(), RecallScope(serial_ranges=(("ZZ0000009", "ZZ0000001"),)),
                RecallScope(serial_ranges=(("ZZ0000001", "YY0000009"),)),
                RecallScope(serial_ranges=(("zz1", "zz2"),))):
        with pytest.raises(BadRecallScopeError):
            do_request_recall("t", "r", RecallRemedy.FIRMWARE_UPDATE, bad, acting_user=moi)
    with pytest.raises(EmptyRecallError):
        do_request_recall("t", "r", RecallRemedy.FIRMWARE_UPDATE, RecallScope(chip_lots=("LOT-9",)),
                          acting_user=moi)


def test_rejected_recall(office: Office, make_staff: Callable[..., StaffAccount]) -> None:
    make_card(make_person(), office, shipment="SHIP-1")
    moi, other_moi = make_staff(Role.MOI_ADMIN).user, make_staff(Role.MOI_ADMIN).user
    recall = do_request_recall("t", "r", RecallRemedy.FIRMWARE_UPDATE, RecallScope(chip_lots=("SHIP-1",)),
                               acting_user=moi)
    assert recall.approval is not None
    do_reject(recall.approval.pk, "false alarm", acting_user=other_moi)
    recall.refresh_from_db()
    assert recall.status == RecallStatus.REJECTED
    assert not RecallItem.objects.exists() and not ApiSuspension.objects.exists()
