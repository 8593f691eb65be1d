"""Lifecycle and RA service (PKI-1, PKI-3): issue, suspend/resume, revoke, reissue once, content change,
rewrite, status, publication, contact; office vs citizen functions; every action audited."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from neweid.pki.ca.audit import ActorKind
from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.errors import CaDirectoryError, CaError, LifecycleError, Refusal, UnknownCertificateError
from neweid.pki.ca.profiles import CertificateUsage, Subscriber
from neweid.pki.ca.ra import EndCause, token_digest
from neweid.pki.ca.registry import CertificateStatus, RevocationReason
from neweid.pki.ca.validity import CardValidity
from neweid.pki.errors import PkiError
from neweid.pki.keystore import FileKeyStore
from tests.test_ca_support import (
    CARD,
    CARD_SERIAL,
    ID_NUMBER,
    PASSPHRASE,
    SUBSCRIBER,
    Clock,
    csr_for,
    ec_key,
    make_ca,
    rsa_key,
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ca(tmp_path: Path, clock: Clock) -> Iterator[CaDirectory]:
    opened = make_ca(tmp_path / "ca", clock)
    yield opened
    opened.close()


def audit_lines(ca: CaDirectory) -> list[dict[str, object]]:
    return [json.loads(line) for line in ca.hierarchy.audit_path.read_text(encoding="utf-8").splitlines()]


def issue_sign(
    ca: CaDirectory, key_index: int = 0, subscriber: Subscriber = SUBSCRIBER, card: CardValidity = CARD
) -> int:
    office = ca.ra.operator("clerk")
    return office.issue(
        csr_for(ec_key(key_index)),
        subscriber,
        CertificateUsage.SIGN,
        card,
        contact_email="a@example.tw",
        contact_phone="0912-345-678",
    ).record.serial


def test_suspend_resume_revoke_cycle_and_audit(ca: CaDirectory, clock: Clock) -> None:
    office = ca.ra.operator("clerk")
    serial = issue_sign(ca)
    assert office.status(serial).status is CertificateStatus.GOOD
    clock.advance(hours=1)
    held = office.suspend(serial)
    assert (held.status, held.reason, held.revoked_at) == (
        CertificateStatus.SUSPENDED,
        RevocationReason.CERTIFICATE_HOLD,
        clock.now,
    )
    with pytest.raises(LifecycleError) as info:
        office.suspend(serial)
    assert info.value.code is Refusal.NOT_GOOD
    assert office.resume(serial).status is CertificateStatus.GOOD
    with pytest.raises(LifecycleError) as info:
        office.resume(serial)
    assert info.value.code is Refusal.NOT_SUSPENDED
    revoked = office.revoke(serial, RevocationReason.KEY_COMPROMISE)
    assert revoked.status is CertificateStatus.REVOKED and revoked.reason is RevocationReason.KEY_COMPROMISE
    with pytest.raises(LifecycleError):
        office.resume(serial)
    with pytest.raises(LifecycleError) as info:
        office.revoke(serial, RevocationReason.KEY_COMPROMISE)
    assert info.value.code is Refusal.REVOKED
    lines = audit_lines(ca)
    assert [(e["action"], e["outcome"]) for e in lines] == [
        ("issue", "done"),
        ("status", "done"),
        ("suspend", "done"),
        ("suspend", "refused"),
        ("resume", "done"),
        ("resume", "refused"),
        ("revoke", "done"),
        ("resume", "refused"),
        ("revoke", "refused"),
    ]
    assert all(e["serials"] == [f"{serial:x}"] for e in lines)
    assert lines[6]["reason"] == "key_compromise" and lines[8]["refusal"] == "revoked"
    text = ca.hierarchy.audit_path.read_text(encoding="utf-8")
    for personal in (ID_NUMBER, "6789", "王小明", CARD_SERIAL, "a@example.tw", "0912"):
        assert personal not in text


def test_revoke_refuses_hold_reasons(ca: CaDirectory) -> None:
    serial = issue_sign(ca)
    for reason in (RevocationReason.CERTIFICATE_HOLD, RevocationReason.REMOVE_FROM_CRL):
        with pytest.raises(LifecycleError) as info:
            ca.ra.operator("x").revoke(serial, reason)
        assert info.value.code is Refusal.BAD_REASON


def test_duplicate_slot_refused_until_revoked(ca: CaDirectory) -> None:
    serial = issue_sign(ca, 0)
    with pytest.raises(LifecycleError) as info:
        issue_sign(ca, 1)
    assert info.value.code is Refusal.DUPLICATE
    ca.ra.operator("x").revoke(serial)
    assert issue_sign(ca, 1) != serial


def test_reissue_once_with_new_key_supersedes_old(ca: CaDirectory, clock: Clock) -> None:
    office = ca.ra.operator("clerk")
    serial = issue_sign(ca)
    clock.now = datetime.datetime(2031, 10, 1, tzinfo=datetime.UTC)
    with pytest.raises(CaError) as info:
        office.renew(serial, csr_for(rsa_key(0)))  # key type must stay the same
    assert info.value.code is Refusal.WRONG_KEY_TYPE
    new = office.renew(serial, csr_for(ec_key(1)))
    assert new.record.reissue_count == 1 and new.record.replaces == serial
    assert new.record.contact_email == "a@example.tw"
    assert new.certificate.not_valid_before_utc == clock.now
    assert new.certificate.not_valid_after_utc == datetime.datetime(
        2036, 10, 1, tzinfo=datetime.UTC
    ) - datetime.timedelta(seconds=1)
    old = office.status(serial)
    assert old.status is CertificateStatus.REVOKED and old.reason is RevocationReason.SUPERSEDED
    with pytest.raises(CaError) as info:
        office.renew(new.record.serial, csr_for(ec_key(2)))
    assert info.value.code is Refusal.REISSUE_LIMIT


def test_reissue_of_revoked_or_suspended_refused(ca: CaDirectory) -> None:
    office = ca.ra.operator("clerk")
    serial = issue_sign(ca)
    office.suspend(serial)
    with pytest.raises(LifecycleError) as info:
        office.renew(serial, csr_for(ec_key(1)))
    assert info.value.code is Refusal.NOT_GOOD
    office.revoke(serial, RevocationReason.CESSATION_OF_OPERATION)
    with pytest.raises(LifecycleError, match="revoked") as info:
        office.renew(serial, csr_for(ec_key(1)))
    assert info.value.code is Refusal.REVOKED


def test_issue_past_renewal_date_refused(ca: CaDirectory) -> None:
    card = CardValidity(datetime.date(2026, 11, 2), datetime.date(2029, 1, 1))
    with pytest.raises(CaError) as info:
        ca.ra.operator("x").issue(
            csr_for(ec_key(0)),
            SUBSCRIBER,
            CertificateUsage.SIGN,
            card,
            not_after=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        )
    assert info.value.code is Refusal.PAST_RENEWAL_DATE
    assert audit_lines(ca)[-1]["refusal"] == "past-renewal-date"
    assert ca.registry.count() == 0


def test_content_change_reissue_keeps_end_and_count(ca: CaDirectory, clock: Clock) -> None:
    serial = issue_sign(ca)
    clock.advance(days=100)
    citizen = ca.ra.citizen_online(CARD_SERIAL)
    new = citizen.reissue_on_content_change(serial, csr_for(ec_key(1)), "王大明")
    assert new.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "王大明"
    old = ca.registry.get(serial)
    assert new.record.not_after == old.not_after and new.record.reissue_count == 0
    assert old.status is CertificateStatus.REVOKED


def test_citizen_functions_are_limited_to_own_card(ca: CaDirectory) -> None:
    serial = issue_sign(ca)
    other = ca.ra.citizen_online("XX0000999999")
    for call in (
        lambda: other.suspend(serial),
        lambda: other.status(serial),
        lambda: other.rewrite(serial),
        lambda: other.change_email(serial, "b@example.tw"),
    ):
        with pytest.raises(UnknownCertificateError, match="no certificate"):
            call()
    mine = ca.ra.citizen_online(CARD_SERIAL)
    assert [r.serial for r in mine.certificates()] == [serial]
    mine.suspend(serial)
    mine.resume(serial)
    record = mine.change_email(serial, "new@example.tw")
    assert record.contact_email == "new@example.tw" and record.contact_phone == "0912345678"
    assert mine.set_publication(serial, False).published is False
    assert mine.rewrite(serial).serial_number == serial
    with pytest.raises(LifecycleError):
        mine.revoke(serial, RevocationReason.PRIVILEGE_WITHDRAWN)  # only the office ends a subscriber
    mine.revoke(serial)
    with pytest.raises(LifecycleError):
        mine.rewrite(serial)
    actors = {e["actor"] for e in audit_lines(ca)}
    assert actors == {ActorKind.CA_OPERATOR.value, ActorKind.CITIZEN.value}


def test_card_events_loss_found_and_death(ca: CaDirectory) -> None:
    office = ca.ra.operator("clerk")
    a = issue_sign(ca)
    b = office.issue(csr_for(rsa_key(1)), SUBSCRIBER, CertificateUsage.ENCRYPT, CARD).record.serial
    assert {r.serial for r in office.report_loss(CARD_SERIAL)} == {a, b}
    assert {r.status for r in office.certificates_of_card(CARD_SERIAL)} == {CertificateStatus.SUSPENDED}
    assert {r.serial for r in office.withdraw_loss(CARD_SERIAL)} == {a, b}
    ended = office.end_subscriber(CARD_SERIAL, EndCause.DEATH)
    assert {(r.status, r.reason) for r in ended} == {
        (CertificateStatus.REVOKED, RevocationReason.CESSATION_OF_OPERATION)
    }
    assert office.end_subscriber(CARD_SERIAL, EndCause.GUARDIANSHIP) == []


def test_office_authentication(ca: CaDirectory) -> None:
    ca.ra._clients["mgmt"] = token_digest(b"s3cret")
    office = ca.ra.authenticate_office("mgmt", b"s3cret", "clerk-7")
    assert office.actor.identifier == "mgmt/clerk-7"
    for client, token, operator in (
        ("mgmt", b"wrong", "c"),
        ("other", b"s3cret", "c"),
        ("mgmt", b"s3cret", ""),
    ):
        with pytest.raises(CaError) as info:
            ca.ra.authenticate_office(client, token, operator)
        assert info.value.code is Refusal.NOT_AUTHENTICATED
    assert [(e["action"], e["outcome"]) for e in audit_lines(ca)] == [("authenticate", "done")] + [
        ("authenticate", "refused")
    ] * 3


def test_citizen_by_certificate(ca: CaDirectory) -> None:
    office = ca.ra.operator("clerk")
    issued = office.issue(csr_for(ec_key(0)), SUBSCRIBER, CertificateUsage.SIGN, CARD)
    citizen = ca.ra.citizen_by_certificate(issued.certificate)
    assert [r.serial for r in citizen.certificates()] == [issued.record.serial]
    office.revoke(issued.record.serial)
    with pytest.raises(CaError) as info:
        ca.ra.citizen_by_certificate(issued.certificate)
    assert info.value.code is Refusal.NOT_AUTHENTICATED


def test_contact_validation(ca: CaDirectory) -> None:
    serial = issue_sign(ca)
    office = ca.ra.operator("clerk")
    for email, phone in (("no-at-sign", None), ("a@b", None), (None, "12"), (None, "09x2345678")):
        with pytest.raises(CaError) as info:
            office.change_contact(serial, email=email, phone=phone)
        assert info.value.code is Refusal.BAD_CONTACT
    assert office.change_contact(serial, email=None, phone="+886912345678").contact_phone == "+886912345678"


def test_unknown_serial(ca: CaDirectory) -> None:
    with pytest.raises(UnknownCertificateError):
        ca.ra.operator("x").suspend(0x1234)
    assert audit_lines(ca)[-1]["refusal"] == "unknown-certificate"


def test_reopen_directory_and_wrong_passphrase(tmp_path: Path, clock: Clock) -> None:
    directory = tmp_path / "ca"
    made = make_ca(directory, clock)
    serial = issue_sign(made)
    made.close()
    with CaDirectory.open(directory, FileKeyStore(directory / "keys", PASSPHRASE), clock=clock) as again:
        assert again.registry.get(serial).status is CertificateStatus.GOOD
    with pytest.raises(CaDirectoryError):
        CaDirectory.open(directory, FileKeyStore(directory / "keys", b"wrong"))
    with pytest.raises(CaDirectoryError, match="not empty"):
        make_ca(directory, clock)
    with pytest.raises(PkiError, match="not a CA directory"):
        CaDirectory.open(tmp_path / "nothing", FileKeyStore(tmp_path / "k", PASSPHRASE))


def test_ocsp_certificate_renewal(ca: CaDirectory, clock: Clock) -> None:
    first = ca.hierarchy.ocsp
    ca.renew_ocsp_certificate(now=clock.now)
    assert ca.hierarchy.ocsp == first  # 90 days left: nothing to do
    ca.renew_ocsp_certificate(now=clock.advance(days=70))
    assert ca.hierarchy.ocsp != first and ca.hierarchy.ocsp.public_key() == first.public_key()
    reopened = CaDirectory.open(ca.hierarchy.directory, ca.hierarchy.store)
    assert reopened.hierarchy.ocsp == ca.hierarchy.ocsp
    reopened.close()
