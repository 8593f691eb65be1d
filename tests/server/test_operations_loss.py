"""Loss reports and their revocation (MGMT-10, Ch.11 肆.二(二)); chip data lists (DOC-2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Application, Kind, Status
from neweid.server.applications.rules import FEES
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.ca import SimulatedCitizenCa
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.errors import AccessDeniedError, ServerError, UnavailableError
from neweid.server.operations.chipdata import (
    ChipDataListState,
    do_issue_chip_data_list,
    verify_chip_data_list,
)
from neweid.server.operations.errors import (
    ChannelNeedsOfficeError,
    LossNotRevocableError,
    NoCardInUseError,
    OutsideOfficeHoursError,
    ReporterNotAllowedError,
)
from neweid.server.operations.loss import do_report_loss, do_revoke_loss
from neweid.server.operations.models import LossChannel, LossReport, LossStatus, ReporterRole
from neweid.server.operations.rules import OFFICE_HOURS, reporter_refusal
from tests.server.conftest import StaffAccount
from tests.server.test_operations_support import (
    EVENING,
    NOW,
    TODAY,
    Clock,
    make_application,
    make_card,
    make_family,
    make_person,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ca() -> SimulatedCitizenCa:
    return SimulatedCitizenCa()


@pytest.fixture
def clerk(make_staff: Callable[..., StaffAccount]) -> object:
    return make_staff(Role.OFFICE_CLERK).user


def test_counter_report_suspends_card_certificate_and_chip_data_lists(
        clerk: object, office: Office, ca: SimulatedCitizenCa) -> None:
    person = make_person()
    card = make_card(person, office)
    chip_list = do_issue_chip_data_list(card.pk, acting_user=clerk)
    assert verify_chip_data_list(chip_list.serial).state is ChipDataListState.VALID

    report = do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=Clock(), ca=ca)

    card.refresh_from_db()
    assert card.state == CardState.LOST
    assert card.certificate_state == CertificateState.SUSPENDED
    assert ca.calls == [("suspend", (card.serial,), "")]
    assert verify_chip_data_list(chip_list.serial).state is ChipDataListState.SUSPENDED
    assert (report.status, report.reporter_role) == (LossStatus.ACTIVE, ReporterRole.SELF)
    assert report.office == office
    event = CardEvent.objects.filter(card=card).latest("id")
    assert (event.from_state, event.to_state) == (CardState.ISSUED, CardState.LOST)
    entry = AuditEntry.objects.filter(function="operations.loss.report").latest("seq")
    assert entry.result == "success"
    assert entry.extra["channel"] == "counter" and entry.extra["chip_data_lists_suspended"] == 1
    assert person.id_number not in str(entry.extra)


def test_any_office_takes_the_report(make_staff: Callable[..., StaffAccount], office: Office,
                                     other_office: Office, ca: SimulatedCitizenCa) -> None:
    elsewhere = make_staff(Role.OFFICE_CLERK).user
    elsewhere.staff_profile.office = other_office
    elsewhere.staff_profile.save()
    person = make_person()
    make_card(person, office)  # collected in Taipei, lost and reported in Yilan
    report = do_report_loss(person, channel=LossChannel.COUNTER, acting_user=elsewhere, now=Clock(), ca=ca)
    assert report.office == other_office


def test_phone_outside_office_hours_goes_to_the_1996_hotline(clerk: object, office: Office,
                                                             ca: SimulatedCitizenCa) -> None:
    person = make_person()
    card = make_card(person, office)
    with pytest.raises(OutsideOfficeHoursError) as refused:
        do_report_loss(person, channel=LossChannel.PHONE, acting_user=clerk, now=Clock(EVENING), ca=ca)
    assert refused.value.code == "O102"
    card.refresh_from_db()
    assert card.state == CardState.ISSUED
    report = do_report_loss(person, channel=LossChannel.HOTLINE_1996, acting_user=clerk, now=Clock(EVENING),
                            ca=ca)
    assert report.office is None and report.channel == LossChannel.HOTLINE_1996


def test_phone_during_office_hours(clerk: object, office: Office, ca: SimulatedCitizenCa) -> None:
    person = make_person()
    make_card(person, office)
    report = do_report_loss(person, channel=LossChannel.PHONE, acting_user=clerk, now=Clock(NOW), ca=ca)
    assert report.channel == LossChannel.PHONE and report.office == office


def test_office_hours_are_weekdays_in_taipei() -> None:
    saturday = NOW.replace(day=3)
    assert OFFICE_HOURS.are_open(NOW)
    assert not OFFICE_HOURS.are_open(EVENING)
    assert not OFFICE_HOURS.are_open(saturday)


@pytest.mark.parametrize(("age_birth", "by_parent", "by_phone", "allowed"), [
    (date(2015, 1, 1), False, False, False),  # 11: the child cannot report
    (date(2015, 1, 1), True, False, True),  # 11: the legal representative reports, at the counter too
    (date(2010, 1, 1), True, True, True),  # 16: a parent may phone
    (date(2010, 1, 1), True, False, False),  # 16: at the counter, in person
    (date(2010, 1, 1), False, True, True),  # 16: the minor may phone
    (date(2000, 1, 1), True, True, False),  # 26: only the person
])
def test_reporter_rule(age_birth: date, by_parent: bool, by_phone: bool, allowed: bool) -> None:
    refusal = reporter_refusal(birth=age_birth, on=TODAY, by_representative=by_parent, is_parent=by_parent,
                               by_phone=by_phone)
    assert (refusal is None) is allowed


def test_child_under_14_needs_the_legal_representative(clerk: object, office: Office,
                                                       ca: SimulatedCitizenCa) -> None:
    father, _mother, child = make_family(date(2016, 6, 1))
    make_card(child, office)
    with pytest.raises(ReporterNotAllowedError) as refused:
        do_report_loss(child, channel=LossChannel.COUNTER, acting_user=clerk, now=Clock(), ca=ca)
    assert refused.value.code == "O101"
    report = do_report_loss(child, channel=LossChannel.COUNTER, reporter=father, acting_user=clerk,
                            now=Clock(), ca=ca)
    assert report.reporter_role == ReporterRole.LEGAL_REPRESENTATIVE and report.reporter == father


def test_teenager_by_phone_through_a_parent_but_not_a_stranger(clerk: object, office: Office,
                                                               ca: SimulatedCitizenCa) -> None:
    _father, mother, teen = make_family(date(2010, 3, 1))
    make_card(teen, office)
    stranger = make_person()
    with pytest.raises(ReporterNotAllowedError):
        do_report_loss(teen, channel=LossChannel.PHONE, reporter=stranger, acting_user=clerk, now=Clock(),
                       ca=ca)
    with pytest.raises(ReporterNotAllowedError):  # a parent at the counter: the teenager comes in person
        do_report_loss(teen, channel=LossChannel.COUNTER, reporter=mother, acting_user=clerk, now=Clock(),
                       ca=ca)
    report = do_report_loss(teen, channel=LossChannel.PHONE, reporter=mother, acting_user=clerk, now=Clock(),
                            ca=ca)
    assert report.reporter_role == ReporterRole.LEGAL_REPRESENTATIVE


def test_adult_cannot_be_reported_by_a_parent(clerk: object, office: Office, ca: SimulatedCitizenCa) -> None:
    father, _mother, son = make_family(date(2000, 3, 1))
    make_card(son, office)
    with pytest.raises(ReporterNotAllowedError):
        do_report_loss(son, channel=LossChannel.PHONE, reporter=father, acting_user=clerk, now=Clock(), ca=ca)


def test_online_report_needs_no_staff_but_counter_reports_need_an_office_and_a_clerk(
        make_staff: Callable[..., StaffAccount], office: Office, ca: SimulatedCitizenCa) -> None:
    person = make_person()
    make_card(person, office)
    county = make_staff(Role.COUNTY_OFFICER).user
    with pytest.raises(AccessDeniedError):  # no case capability
        do_report_loss(person, channel=LossChannel.COUNTER, acting_user=county, now=Clock(), ca=ca)
    homeless = make_staff(Role.OFFICE_CLERK).user
    homeless.staff_profile.office = None
    homeless.staff_profile.save()
    with pytest.raises(ChannelNeedsOfficeError):
        do_report_loss(person, channel=LossChannel.COUNTER, acting_user=homeless, now=Clock(), ca=ca)
    report = do_report_loss(person, channel=LossChannel.ONLINE, acting_user=None, now=Clock(EVENING), ca=ca)
    assert report.reported_by_staff == "" and report.office is None


def test_no_card_in_use(clerk: object, office: Office, ca: SimulatedCitizenCa) -> None:
    person = make_person()
    make_card(person, office, state=CardState.NOTIFIED)  # not yet collected
    with pytest.raises(NoCardInUseError) as refused:
        do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=Clock(), ca=ca)
    assert refused.value.code == "O103"
    entry = AuditEntry.objects.filter(function="operations.loss.report").latest("seq")
    assert (entry.result, entry.error_code) == ("failure", "O103")


def test_ca_down_changes_nothing(clerk: object, office: Office, ca: SimulatedCitizenCa) -> None:
    person = make_person()
    card = make_card(person, office)
    ca.fail_next = 1
    with pytest.raises(UnavailableError):
        do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=Clock(), ca=ca)
    card.refresh_from_db()
    assert (card.state, card.certificate_state) == (CardState.ISSUED, CertificateState.ACTIVE)
    assert not LossReport.objects.exists()


def test_card_without_certificate_is_not_sent_to_the_ca(clerk: object, office: Office,
                                                        ca: SimulatedCitizenCa) -> None:
    person = make_person()
    card = make_card(person, office, certificate=CertificateState.NOT_REQUESTED)
    report = do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=Clock(), ca=ca)
    card.refresh_from_db()
    assert card.certificate_state == CertificateState.NOT_REQUESTED and not report.certificate_suspended
    assert ca.calls == []
    do_revoke_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=Clock(), ca=ca)
    card.refresh_from_db()
    assert card.certificate_state == CertificateState.NOT_REQUESTED and ca.calls == []


def test_revoking_the_loss_restores_all_three(clerk: object, office: Office, ca: SimulatedCitizenCa) -> None:
    person = make_person()
    card = make_card(person, office)
    chip_list = do_issue_chip_data_list(card.pk, acting_user=clerk)
    clock = Clock()
    do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=clock, ca=ca)
    clock.advance(days=2)
    report = do_revoke_loss(person, channel=LossChannel.ONLINE, now=clock, ca=ca)
    card.refresh_from_db()
    assert (card.state, card.certificate_state) == (CardState.ISSUED, CertificateState.ACTIVE)
    assert verify_chip_data_list(chip_list.serial).state is ChipDataListState.VALID
    assert ca.state_of(card.serial) == "active" and ca.calls[-1][0] == "resume"
    assert (report.status, report.revoked_channel) == (LossStatus.REVOKED, LossChannel.ONLINE)
    with pytest.raises(NoCardInUseError):  # nothing left to revoke
        do_revoke_loss(person, channel=LossChannel.ONLINE, now=clock, ca=ca)


def test_reissue_application_ends_the_loss_for_good(clerk: object, office: Office, ca: SimulatedCitizenCa,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("neweid.server.operations.loss.get_citizen_ca", lambda: ca)
    person = make_person()
    card = make_card(person, office, application=make_application(person, office, status=Status.COMPLETED))
    clock = Clock()
    do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=clock, ca=ca)
    clock.advance(hours=1)
    reissue = make_application(person, office, kind=Kind.REISSUE_LOSS, status=Status.SUBMITTED,
                               submitted_at=clock.now, fee=FEES[Kind.REISSUE_LOSS])
    card.refresh_from_db()
    assert card.state == CardState.REISSUED  # the old card is void
    assert card.certificate_state == CertificateState.REVOKED
    assert ca.state_of(card.serial) == "revoked:superseded"
    report = LossReport.objects.get(card=card)
    assert report.status == LossStatus.REISSUED and report.reissue_application == reissue
    assert Application.objects.get(pk=reissue.pk).fee == FEES[Kind.REISSUE_LOSS] > 0  # the reissue fee
    with pytest.raises(ServerError):
        do_revoke_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=clock, ca=ca)


def test_loss_cannot_be_revoked_once_a_reissue_is_applied_for(clerk: object, office: Office,
                                                              ca: SimulatedCitizenCa) -> None:
    """Even if the reissue's closing step did not run (bulk_create sends no post_save signal)."""
    person = make_person()
    make_card(person, office, application=make_application(person, office, status=Status.COMPLETED))
    clock = Clock()
    do_report_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=clock, ca=ca)
    Application.objects.bulk_create([Application(
        person=person, office=office, pickup_office=office, channel="counter", kind=Kind.REISSUE_LOSS,
        photo=b"", status=Status.SUBMITTED, fee=FEES[Kind.REISSUE_LOSS], application_date=TODAY,
        age_at_application=36, submitted_at=clock.now)])
    with pytest.raises(LossNotRevocableError) as refused:
        do_revoke_loss(person, channel=LossChannel.COUNTER, acting_user=clerk, now=clock, ca=ca)
    assert refused.value.code == "O104"
    assert Card.objects.get(person=person).state == CardState.LOST
