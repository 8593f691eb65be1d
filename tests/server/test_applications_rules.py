"""The applicant rules of MGMT-3, the certificate option of MGMT-5, kinds and fees of MGMT-9, channels of
MGMT-2 and the renewal date of CARD-10, each through do_submit_application (one test per SOP rule)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from neweid.server.accounts.roles import Role
from neweid.server.applications.actions import do_submit_application
from neweid.server.applications.errors import ApplicationError
from neweid.server.applications.errors import ApplicationErrorCode as C
from neweid.server.applications.models import (
    ApplicantRole,
    Application,
    CertificateRefusal,
    Channel,
    HomeServiceReason,
    Kind,
    ReplacementReason,
    Status,
)
from neweid.server.applications.rules import FEES, Documents
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import ErrorCode
from neweid.server.registry.errors import RegistryUnavailableError
from neweid.server.registry.interface import Return, StatusChange
from neweid.server.registry.models import Person
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import PersonStatus
from tests.server.conftest import StaffAccount
from tests.server.test_applications_support import (
    OTHER_VILLAGE,
    TODAY,
    Clock,
    make_family,
    make_household,
    make_person,
    request_for,
)

pytestmark = pytest.mark.django_db

REP_DOCS = Documents(applicant_id_checked=True, other_parent_consent=True)
PROXY_DOCS = Documents(applicant_id_checked=True, power_of_attorney=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> SimulatedRegistry:
    return SimulatedRegistry(clock=clock)


@pytest.fixture
def clerk(make_staff: Callable[..., StaffAccount]) -> Any:
    return make_staff(Role.OFFICE_CLERK).user


@pytest.fixture
def submit(clerk: Any, registry: SimulatedRegistry, clock: Clock) -> Callable[..., Application]:
    def run(person: Person, **overrides: Any) -> Application:
        return do_submit_application(request_for(person, **overrides), acting_user=clerk, registry=registry,
                                     clock=clock)
    return run


def refused(code: C, action: Callable[[], object]) -> ApplicationError:
    """The action is refused with ``code`` and writes no application."""
    before = Application.objects.count()
    with pytest.raises(ApplicationError) as caught:
        action()
    assert caught.value.code == code, caught.value.code
    assert Application.objects.count() == before
    return caught.value


# -- accepted applications, renewal date (CARD-10), audit -------------------------------------------------


def test_adult_in_person_is_accepted_and_audited(submit: Callable[..., Application], office: Any) -> None:
    person = make_person(birth=date(1990, 5, 1))
    application = submit(person)
    assert application.status == Status.SUBMITTED
    assert application.office == office and application.pickup_office == office
    assert application.application_date == TODAY and application.age_at_application == 36
    assert application.renewal_date == date(2036, 10, 1)  # 10 years from 14 to under 65
    assert application.certificate_opt_in and application.certificate_refusal is None  # MGMT-5 default
    assert application.fee == 0 and application.photo_width == 826
    entry = AuditEntry.objects.filter(function="applications.submit").get()
    assert entry.result == "success" and entry.object_id == str(application.pk)
    assert person.id_number not in str(entry.extra)


@pytest.mark.parametrize(("birth", "renewal"), [
    (date(2016, 6, 1), date(2031, 10, 1)),  # 10 years old: 5 years
    (date(2012, 10, 2), date(2031, 10, 1)),  # 13, 14 tomorrow: still 5 years
    (date(2012, 10, 1), date(2036, 10, 1)),  # 14 today: 10 years
    (date(1961, 10, 2), date(2036, 10, 1)),  # 64
    (date(1961, 10, 1), None),  # 65 today: no renewal date
])
def test_renewal_date_by_age_on_the_application_date(submit: Callable[..., Application], birth: date,
                                                     renewal: date | None) -> None:
    if birth.year >= 2012 and birth > date(2012, 10, 1):
        father, _mother, child = make_family(child_birth=birth)
        application = submit(child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE,
                             applicant_id_number=father.id_number, documents=REP_DOCS)
    else:
        application = submit(make_person(birth=birth))
    assert application.renewal_date == renewal


# -- MGMT-3: who applies ----------------------------------------------------------------------------------


def test_14_or_more_apply_in_person_not_through_a_representative(submit: Callable[..., Application]) -> None:
    father, _mother, teen = make_family(child_birth=date(2010, 1, 1))
    refused(C.IN_PERSON_REQUIRED, lambda: submit(teen, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE,
                                                 applicant_id_number=father.id_number, documents=REP_DOCS))


def test_under_14_cannot_apply_alone(submit: Callable[..., Application]) -> None:
    _father, _mother, child = make_family()
    refused(C.REPRESENTATIVE_REQUIRED, lambda: submit(child))


def test_the_representative_must_be_a_parent(submit: Callable[..., Application]) -> None:
    _father, _mother, child = make_family()
    stranger = make_person()
    refused(C.NOT_LEGAL_REPRESENTATIVE, lambda: submit(
        child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE, applicant_id_number=stranger.id_number,
        documents=REP_DOCS))


def test_the_representative_needs_an_id_number(submit: Callable[..., Application]) -> None:
    _father, _mother, child = make_family()
    refused(C.APPLICANT_REQUIRED, lambda: submit(child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE,
                                                 documents=REP_DOCS))


def test_the_representative_shows_an_identity_document(submit: Callable[..., Application]) -> None:
    father, _mother, child = make_family()
    refused(C.REPRESENTATIVE_ID_REQUIRED, lambda: submit(
        child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE, applicant_id_number=father.id_number,
        documents=Documents(other_parent_consent=True)))


def test_one_parent_alone_needs_the_other_parents_consent(submit: Callable[..., Application]) -> None:
    father, _mother, child = make_family()
    refused(C.OTHER_PARENT_CONSENT_REQUIRED, lambda: submit(
        child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE, applicant_id_number=father.id_number,
        documents=Documents(applicant_id_checked=True)))


@pytest.mark.parametrize("documents", [
    Documents(applicant_id_checked=True, other_parent_consent=True),  # 同意書
    Documents(applicant_id_checked=True, power_of_attorney=True),  # 委託書
    Documents(applicant_id_checked=True, other_parent_present=True),  # both came
])
def test_one_parent_with_consent_or_power_of_attorney_is_accepted(submit: Callable[..., Application],
                                                                   documents: Documents) -> None:
    _father, mother, child = make_family()
    application = submit(child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE,
                         applicant_id_number=mother.id_number, documents=documents)
    assert application.applicant is not None and application.applicant.id_number == mother.id_number
    assert application.renewal_date == date(2031, 10, 1)


def test_no_consent_needed_when_the_other_parent_is_dead(submit: Callable[..., Application]) -> None:
    father, mother, child = make_family()
    Person.objects.filter(pk=mother.pk).update(status=PersonStatus.DEAD.value)
    application = submit(child, applicant_role=ApplicantRole.LEGAL_REPRESENTATIVE,
                         applicant_id_number=father.id_number, documents=Documents(applicant_id_checked=True))
    assert application.status == Status.SUBMITTED


def test_proxy_with_id_and_power_of_attorney_is_accepted(submit: Callable[..., Application]) -> None:
    person, proxy = make_person(), make_person()
    application = submit(person, applicant_role=ApplicantRole.PROXY, applicant_id_number=proxy.id_number,
                         documents=PROXY_DOCS)
    assert application.applicant_role == ApplicantRole.PROXY and application.power_of_attorney


@pytest.mark.parametrize("documents", [Documents(applicant_id_checked=True),
                                       Documents(power_of_attorney=True)])
def test_proxy_needs_id_and_power_of_attorney(submit: Callable[..., Application],
                                              documents: Documents) -> None:
    person, proxy = make_person(), make_person()
    refused(C.PROXY_DOCUMENTS_REQUIRED, lambda: submit(
        person, applicant_role=ApplicantRole.PROXY, applicant_id_number=proxy.id_number, documents=documents))


def test_no_proxy_for_a_counter_reissue_after_loss(submit: Callable[..., Application]) -> None:
    person, proxy = make_person(), make_person()
    refused(C.PROXY_NOT_ALLOWED_FOR_KIND, lambda: submit(
        person, kind=Kind.REISSUE_LOSS, applicant_role=ApplicantRole.PROXY,
        applicant_id_number=proxy.id_number, documents=PROXY_DOCS))


def test_no_proxy_online(submit: Callable[..., Application], office: Any) -> None:
    person, proxy = make_person(), make_person()
    refused(C.PROXY_NOT_ALLOWED_ONLINE, lambda: submit(
        person, channel=Channel.ONLINE, applicant_role=ApplicantRole.PROXY,
        applicant_id_number=proxy.id_number, documents=PROXY_DOCS, pickup_office_code=office.code,
        pickup_date=date(2026, 10, 20)))


def test_a_dead_proxy_cannot_act(submit: Callable[..., Application]) -> None:
    person, proxy = make_person(), make_person(status=PersonStatus.DEAD)
    refused(C.APPLICANT_NOT_ELIGIBLE, lambda: submit(person, applicant_role=ApplicantRole.PROXY,
                                                     applicant_id_number=proxy.id_number,
                                                     documents=PROXY_DOCS))


@pytest.mark.parametrize(("status", "code"), [
    (PersonStatus.MISSING, C.PERSON_MISSING),
    (PersonStatus.INMATE, C.PERSON_INMATE),
    (PersonStatus.EMIGRATED, C.PERSON_EMIGRATED),
    (PersonStatus.DEAD, C.PERSON_DEAD),
    (PersonStatus.DECLARED_DEAD, C.PERSON_DEAD),
    (PersonStatus.REGISTRATION_CANCELLED, C.REGISTRATION_CANCELLED),
])
def test_registration_status_refusals(submit: Callable[..., Application], status: PersonStatus,
                                      code: C) -> None:
    person = make_person(status=status)
    error = refused(code, lambda: submit(person))
    assert error.http_status == 422
    assert AuditEntry.objects.filter(function="applications.submit", result="failure",
                                     error_code=code.value).count() == 1


@pytest.mark.parametrize("status", [PersonStatus.MISSING, PersonStatus.INMATE])
def test_cleared_missing_person_and_released_inmate_may_apply(submit: Callable[..., Application],
                                                              registry: SimulatedRegistry,
                                                              status: PersonStatus) -> None:
    person = make_person(status=status)
    registry.apply(StatusChange(person.id_number, TODAY, PersonStatus.ACTIVE))
    assert submit(person).status == Status.SUBMITTED


def test_returning_emigrant_applies_with_the_re_registration(submit: Callable[..., Application],
                                                             registry: SimulatedRegistry) -> None:
    person = make_person(status=PersonStatus.EMIGRATED, status_date=date(2020, 1, 1))
    refused(C.PERSON_EMIGRATED, lambda: submit(person))
    registry.apply(Return(person.id_number, TODAY))
    assert submit(person, kind=Kind.FIRST_ISSUANCE).fee == FEES[Kind.FIRST_ISSUANCE]


def test_bad_id_number(submit: Callable[..., Application]) -> None:
    person = make_person()
    person.id_number = "A123456788"  # wrong check digit
    refused(C.BAD_ID_NUMBER, lambda: submit(person))


# -- MGMT-5: certificate option and guardianship ----------------------------------------------------------


def test_certificate_can_be_declined(submit: Callable[..., Application]) -> None:
    application = submit(make_person(), certificate_opt_in=False)
    assert not application.certificate_opt_in
    assert application.certificate_refusal == CertificateRefusal.DECLINED


def test_person_under_guardianship_gets_no_certificate(submit: Callable[..., Application]) -> None:
    application = submit(make_person(under_guardianship=True), certificate_opt_in=True)
    assert not application.certificate_opt_in
    assert application.certificate_refusal == CertificateRefusal.GUARDIANSHIP
    entry = AuditEntry.objects.get(function="applications.submit", result="success")
    assert entry.extra["certificate"] == "guardianship"


# -- MGMT-9: kinds and fees -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "reason", "fee"), [
    (Kind.FIRST_ISSUANCE, None, 50),
    (Kind.REISSUE_LOSS, None, 200),
    (Kind.REPLACEMENT, ReplacementReason.FACE_CHANGE, 200),
    (Kind.REPLACEMENT, ReplacementReason.ADD_CERTIFICATE, 200),
    (Kind.NATIONWIDE_REPLACEMENT, None, 0),
])
def test_fees_by_kind(submit: Callable[..., Application], kind: Kind, reason: ReplacementReason | None,
                      fee: int) -> None:
    application = submit(make_person(), kind=kind, replacement_reason=reason)
    assert application.fee == fee and application.kind == kind


def test_replacement_needs_a_reason(submit: Callable[..., Application]) -> None:
    person = make_person()
    refused(C.REPLACEMENT_REASON_REQUIRED, lambda: submit(person, kind=Kind.REPLACEMENT))


def test_only_replacements_have_a_reason(submit: Callable[..., Application]) -> None:
    person = make_person()
    refused(C.REPLACEMENT_REASON_NOT_ALLOWED, lambda: submit(person, kind=Kind.REISSUE_LOSS,
                                                             replacement_reason=ReplacementReason.DAMAGE))


# -- MGMT-2: channels -------------------------------------------------------------------------------------


def test_first_issuance_is_not_taken_online(submit: Callable[..., Application], office: Any) -> None:
    person = make_person()
    refused(C.CHANNEL_NOT_FOR_KIND, lambda: submit(person, channel=Channel.ONLINE, kind=Kind.FIRST_ISSUANCE,
                                                   pickup_office_code=office.code, pickup_date=TODAY))


def test_scheduled_site_takes_its_own_district_only(submit: Callable[..., Application]) -> None:
    assert submit(make_person(), channel=Channel.SITE).channel == Channel.SITE
    outsider = make_person(make_household(OTHER_VILLAGE))
    refused(C.SITE_OUT_OF_DISTRICT, lambda: submit(outsider, channel=Channel.SITE))


def test_counter_takes_any_district(submit: Callable[..., Application]) -> None:
    outsider = make_person(make_household(OTHER_VILLAGE))
    assert submit(outsider).status == Status.SUBMITTED


def test_home_service_needs_a_reason(submit: Callable[..., Application]) -> None:
    person = make_person()
    refused(C.HOME_SERVICE_NOT_ELIGIBLE, lambda: submit(person, channel=Channel.HOME))


def test_home_service_for_limited_mobility_at_65_only(submit: Callable[..., Application]) -> None:
    younger = make_person(birth=date(1970, 1, 1))
    refused(C.HOME_SERVICE_NOT_ELIGIBLE, lambda: submit(
        younger, channel=Channel.HOME, home_service_reason=HomeServiceReason.SENIOR_LIMITED_MOBILITY))
    senior = make_person(birth=date(1950, 1, 1))
    application = submit(senior, channel=Channel.HOME,
                         home_service_reason=HomeServiceReason.SENIOR_LIMITED_MOBILITY)
    assert application.home_service_reason == HomeServiceReason.SENIOR_LIMITED_MOBILITY
    assert application.renewal_date is None


def test_online_reissue_only_after_the_households_letter(submit: Callable[..., Application],
                                                         office: Any) -> None:
    person = make_person()
    refused(C.NOT_NOTIFIED, lambda: submit(person, channel=Channel.ONLINE, kind=Kind.REISSUE_LOSS,
                                           pickup_office_code=office.code, pickup_date=TODAY))


def test_online_needs_pickup_office_and_day(submit: Callable[..., Application]) -> None:
    person = make_person()
    refused(C.PICKUP_REQUIRED, lambda: submit(person, channel=Channel.ONLINE))


# -- one open application per person; access; registry outage -----------------------------------------------


def test_one_open_application_per_person(submit: Callable[..., Application]) -> None:
    person = make_person()
    submit(person)
    refused(C.OPEN_APPLICATION_EXISTS, lambda: submit(person))
    assert Application.objects.count() == 1


def test_only_case_workers_with_an_office_take_applications(make_staff: Callable[..., StaffAccount],
                                                            registry: SimulatedRegistry) -> None:
    person = make_person()
    for role, code in ((Role.AUDITOR, ErrorCode.SEPARATION_OF_DUTIES), (Role.COUNTY_OFFICER,
                                                                       ErrorCode.FORBIDDEN)):
        with pytest.raises(Exception) as caught:
            do_submit_application(request_for(person), acting_user=make_staff(role).user, registry=registry)
        assert getattr(caught.value, "code", None) == code
    assert Application.objects.count() == 0


def test_registry_outage_refuses_with_e503_and_writes_nothing(submit: Callable[..., Application],
                                                              registry: SimulatedRegistry) -> None:
    person = make_person()
    registry.faults.fail_next(1)
    with pytest.raises(RegistryUnavailableError) as caught:
        submit(person)
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert Application.objects.count() == 0
    assert submit(person).status == Status.SUBMITTED  # the registry is back
