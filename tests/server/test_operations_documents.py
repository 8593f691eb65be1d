"""Temporary certificates (DOC-1, MGMT-9) and verification serials; chip updates (MGMT-11, CARD-7)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.server.accounts.approvals import do_approve, do_reject
from neweid.server.accounts.models import ApprovalRequest, ApprovalStatus, Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Status
from neweid.server.audit.models import AuditEntry
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState
from neweid.server.errors import AccessDeniedError, ErrorCode
from neweid.server.operations import serials
from neweid.server.operations.chip_updates import (
    UPDATABLE_FIELDS,
    do_record_chip_written,
    do_request_chip_update,
)
from neweid.server.operations.errors import (
    BadValidityError,
    CardNotUpdatableError,
    NewCardRequiredError,
    NoOpenApplicationError,
    NothingToUpdateError,
    UnknownChipFieldError,
)
from neweid.server.operations.models import ChipUpdate, ChipUpdateStatus, TemporaryCertificate
from neweid.server.operations.temporary import (
    ApplicationProgress,
    CertificateState,
    application_progress,
    do_issue_temporary_certificate,
    do_withdraw_temporary_certificate,
    verify_temporary_certificate,
)
from neweid.server.registry.models import Household
from neweid.server.registry.simulated import SimulatedRegistry
from tests.server.conftest import StaffAccount
from tests.server.test_operations_support import NOW, Clock, make_application, make_card, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_staff: Callable[..., StaffAccount]) -> object:
    return make_staff(Role.OFFICE_CLERK).user


@pytest.fixture
def supervisor(make_staff: Callable[..., StaffAccount]) -> object:
    return make_staff(Role.OFFICE_SUPERVISOR).user


# -- verification serials -----------------------------------------------------------------------------------


def test_serial_is_random_and_canonical() -> None:
    first, second = serials.new_serial(), serials.new_serial()
    assert first != second and len(first) == 20
    assert set(first) <= set(serials.ALPHABET)
    fixed = serials.new_serial(lambda n: b"\x00" * n)
    assert fixed == "0" * 20


@given(st.binary(min_size=13, max_size=13))
def test_serial_display_round_trip(raw: bytes) -> None:
    serial = serials.new_serial(lambda n: raw[:n])
    shown = serials.display(serial)
    assert shown.count("-") == 4
    assert serials.normalise(shown) == serial
    assert serials.normalise(shown.lower().replace("0", "o").replace("1", "l")) == serial


def test_serial_normalise_rejects_garbage() -> None:
    assert serials.normalise("not a serial") is None
    assert serials.normalise("U" * 20) is None  # U is not in Crockford's alphabet
    assert serials.normalise("0" * 19) is None


# -- temporary certificates ---------------------------------------------------------------------------------


def test_issue_and_verify_a_temporary_certificate(clerk: object, office: Office) -> None:
    person = make_person()
    application = make_application(person, office, status=Status.SUBMITTED)
    clock = Clock()
    certificate = do_issue_temporary_certificate(application.pk, acting_user=clerk, notes="issued at counter",
                                                 days=30, now=clock, rng=random.Random(1).randbytes)
    assert certificate.name == "陳志明" and certificate.id_number == person.id_number
    assert certificate.address == person.household.address and certificate.sex == person.sex
    assert certificate.birth_date == person.birth_date and certificate.applied_at == application.submitted_at
    assert certificate.valid_until - certificate.valid_from == timedelta(days=29)
    status = verify_temporary_certificate(serials.display(certificate.serial).lower(), now=clock)
    assert status.state is CertificateState.VALID and status.office_code == office.code
    assert application_progress(certificate.serial) is ApplicationProgress.RECEIVED
    entry = AuditEntry.objects.filter(function="operations.temporary_certificate.issue").latest("seq")
    assert entry.result == "success" and person.id_number not in str(entry.extra)


def test_certificate_expires(clerk: object, office: Office) -> None:
    application = make_application(make_person(), office, status=Status.VERIFIED)
    clock = Clock()
    certificate = do_issue_temporary_certificate(application.pk, acting_user=clerk, days=7, now=clock)
    clock.advance(days=6)
    assert verify_temporary_certificate(certificate.serial, now=clock).state is CertificateState.VALID
    clock.advance(days=1)
    assert verify_temporary_certificate(certificate.serial, now=clock).state is CertificateState.EXPIRED


def test_certificate_invalid_once_the_card_is_issued(clerk: object, office: Office) -> None:
    person = make_person()
    application = make_application(person, office)
    card = make_card(person, office, application=application, state=CardState.NOTIFIED)
    certificate = do_issue_temporary_certificate(application.pk, acting_user=clerk, now=Clock())
    assert application_progress(certificate.serial) is ApplicationProgress.READY
    Card.objects.filter(pk=card.pk).update(state=CardState.ISSUED)
    assert verify_temporary_certificate(certificate.serial, now=Clock()).state is CertificateState.CARD_ISSUED
    assert application_progress(certificate.serial) is ApplicationProgress.ISSUED
    with pytest.raises(NoOpenApplicationError):  # no new certificate once the card is out
        do_issue_temporary_certificate(application.pk, acting_user=clerk, now=Clock())


def test_newer_certificate_and_handing_back_withdraw(clerk: object, office: Office) -> None:
    application = make_application(make_person(), office, status=Status.SUBMITTED)
    first = do_issue_temporary_certificate(application.pk, acting_user=clerk, now=Clock())
    second = do_issue_temporary_certificate(application.pk, acting_user=clerk, now=Clock())
    assert verify_temporary_certificate(first.serial, now=Clock()).state is CertificateState.WITHDRAWN
    assert verify_temporary_certificate(second.serial, now=Clock()).state is CertificateState.VALID
    do_withdraw_temporary_certificate(second.pk, acting_user=clerk)
    assert verify_temporary_certificate(second.serial, now=Clock()).state is CertificateState.WITHDRAWN


def test_unknown_serial_and_refusals(clerk: object, office: Office,
                                     make_staff: Callable[..., StaffAccount]) -> None:
    assert verify_temporary_certificate("0000-0000-0000-0000-0000").state is CertificateState.UNKNOWN
    assert verify_temporary_certificate("<script>").state is CertificateState.UNKNOWN
    assert application_progress("nonsense") is ApplicationProgress.UNKNOWN
    cancelled = make_application(make_person(), office, status=Status.CANCELLED)
    with pytest.raises(NoOpenApplicationError):
        do_issue_temporary_certificate(cancelled.pk, acting_user=clerk)
    open_one = make_application(make_person(), office, status=Status.SUBMITTED)
    with pytest.raises(BadValidityError):
        do_issue_temporary_certificate(open_one.pk, acting_user=clerk, days=365)
    with pytest.raises(AccessDeniedError):
        do_issue_temporary_certificate(open_one.pk, acting_user=make_staff(Role.AUDITOR).user)
    assert not TemporaryCertificate.objects.exists()


# -- chip updates -------------------------------------------------------------------------------------------


def test_updatable_fields_are_those_of_card_7() -> None:
    expected = {"household_region", "address", "military_status", "spouse", "father", "mother", "birthplace"}
    assert expected == UPDATABLE_FIELDS


@pytest.mark.parametrize("field", ["name", "id_number", "birth_date", "sex", "photo", "renewal_date",
                                   "marital_status"])
def test_face_fields_need_a_new_card(field: str, clerk: object, office: Office) -> None:
    card = make_card(make_person(), office)
    with pytest.raises(NewCardRequiredError) as refused:
        do_request_chip_update(card.pk, [field, "address"], acting_user=clerk)
    assert refused.value.code == "O201"
    entry = AuditEntry.objects.filter(function="operations.chip_update.request").latest("seq")
    assert (entry.result, entry.error_code) == ("failure", "O201")
    assert not ChipUpdate.objects.exists()


def test_unknown_field_and_nothing_to_update(clerk: object, office: Office) -> None:
    card = make_card(make_person(), office)
    with pytest.raises(UnknownChipFieldError):
        do_request_chip_update(card.pk, ["blood_type"], acting_user=clerk)
    with pytest.raises(NothingToUpdateError):  # the chip already holds the register's data
        do_request_chip_update(card.pk, ["address"], acting_user=clerk)


def _move(person_household: Household, address: str) -> None:
    Household.objects.filter(pk=person_household.pk).update(address=address)


def test_chip_update_with_maker_checker(clerk: object, supervisor: object, office: Office) -> None:
    person = make_person()
    card = make_card(person, office)
    _move(person.household, "臺北市中正區水源里1鄰汀州路三段99號")  # 門牌整編: the address changes
    update = do_request_chip_update(card.pk, ["address"], acting_user=clerk, reason="門牌整編",
                                    registry=SimulatedRegistry(clock=Clock(NOW)))
    assert update.status == ChipUpdateStatus.PENDING
    assert update.changes == {"address": {"address": "臺北市中正區水源里1鄰汀州路三段99號"}}
    assert update.approval is not None and update.approval.action == "operations.chip_update"
    with pytest.raises(AccessDeniedError) as same:
        do_approve(update.approval.pk, acting_user=clerk)
    assert same.value.code == ErrorCode.SAME_PERSON
    do_approve(update.approval.pk, acting_user=supervisor)
    update.refresh_from_db()
    assert update.status == ChipUpdateStatus.APPROVED
    old_digest = Card.objects.get(pk=card.pk).chip_digest
    do_record_chip_written(update.pk, acting_user=clerk)
    card.refresh_from_db()
    assert card.chip_digest == update.new_chip_digest != old_digest
    assert ChipUpdate.objects.get(pk=update.pk).status == ChipUpdateStatus.WRITTEN
    entry = AuditEntry.objects.filter(function="operations.chip_update.request").latest("seq")
    assert "汀州路" not in str(entry.extra)  # the new address stays out of the audit log


def test_rejected_chip_update(clerk: object, supervisor: object, office: Office) -> None:
    person = make_person()
    card = make_card(person, office)
    _move(person.household, "臺北市中正區水源里1鄰汀州路三段7號")
    update = do_request_chip_update(card.pk, ["address", "household_region"], acting_user=clerk)
    assert update.fields == ["address", "household_region"]
    assert update.approval is not None
    do_reject(update.approval.pk, "wrong person", acting_user=supervisor)
    update.refresh_from_db()
    assert update.status == ChipUpdateStatus.REJECTED
    assert ApprovalRequest.objects.get(pk=update.approval.pk).status == ApprovalStatus.REJECTED
    with pytest.raises(CardNotUpdatableError):
        do_record_chip_written(update.pk, acting_user=clerk)


def test_face_change_in_the_register_needs_a_new_card(clerk: object, office: Office) -> None:
    person = make_person()
    card = make_card(person, office)
    person.given_name = "志強"  # a name change is printed on the face
    person.save()
    _move(person.household, "臺北市中正區水源里1鄰汀州路三段5號")
    with pytest.raises(NewCardRequiredError):
        do_request_chip_update(card.pk, ["address"], acting_user=clerk)


def test_only_cards_at_the_office_or_in_use(clerk: object, office: Office) -> None:
    person = make_person()
    card = make_card(person, office, state=CardState.LOST)
    _move(person.household, "臺北市中正區水源里1鄰汀州路三段8號")
    with pytest.raises(CardNotUpdatableError):
        do_request_chip_update(card.pk, ["address"], acting_user=clerk)
