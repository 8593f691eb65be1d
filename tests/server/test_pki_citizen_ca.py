"""The management system over the real citizen CA (issue 5): certificates issued in production from the
CSRs the production centre sent, a loss report suspends them (OCSP: revoked, certificateHold), revoking
the loss resumes them (OCSP: good), voiding revokes them; the settings factory."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.profiles import CertificateUsage, KeyAlgorithm
from neweid.pki.ca.registry import CertificateStatus
from neweid.server.accounts.models import Office
from neweid.server.cards.batching import do_apply_production_status, do_create_batches, do_send_batch
from neweid.server.cards.ca import CardRef, CertificateRequest, RevocationReason, get_citizen_ca
from neweid.server.cards.errors import CitizenCaUnavailableError
from neweid.server.cards.models import Card
from neweid.server.cards.pki_ca import SLOTS, CitizenCaRefusedError, PkiCitizenCa, close_all, from_settings
from neweid.server.cards.states import CardState, CertificateState
from neweid.server.cards.transitions import transition
from neweid.server.exchange.fileformat import decode_file
from neweid.server.exchange.inbound import do_receive_status
from neweid.server.exchange.models import PackageLine
from neweid.server.operations.loss import do_report_loss, do_revoke_loss
from neweid.server.operations.models import LossChannel
from tests.server.test_cards_support import NOW, TODAY, World, make_application, make_person, world
from tests.server.test_exchange_support import Systems, exchange_world, status_file, stock_chips, systems
from tests.test_ca_support import Clock, make_ca

pytestmark = pytest.mark.django_db
__all__ = ["systems", "world"]


@pytest.fixture
def ca_directory(tmp_path: Path) -> Iterator[CaDirectory]:
    directory = make_ca(tmp_path / "ca", Clock(NOW - datetime.timedelta(days=1)))
    yield directory
    directory.close()


@pytest.fixture
def pki_ca(ca_directory: CaDirectory) -> PkiCitizenCa:
    return PkiCitizenCa(ca_directory)


def ocsp_status(directory: CaDirectory, certificate: x509.Certificate, now: datetime.datetime) -> Any:
    request = (ocsp.OCSPRequestBuilder()
               .add_certificate(certificate, directory.hierarchy.issuing, hashes.SHA1())
               .build().public_bytes(serialization.Encoding.DER))
    response = ocsp.load_der_ocsp_response(directory.ocsp_responder().respond(request, now))
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    return response


def produce_with_certificates(world: World, systems: Systems, office: Office, count: int = 1) -> list[Card]:
    """Applications → batch → blank chips → package (certificates) → produced, through the exchange."""
    people = [make_person() for _ in range(count)]
    for person in people:
        make_application(person, office)
    stock_chips(systems.production, count)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    do_send_batch(batch.pk, centre=world.centre, now=world.clock())
    serials = sorted(Card.objects.filter(batch=batch).values_list("serial", flat=True))
    do_receive_status(decode_file(status_file(batch.reference, [(s, "produced") for s in serials])),
                      system=systems.production)
    summary = do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca, now=world.clock())
    assert summary.produced == count and summary.certificates == count
    return list(Card.objects.filter(batch=batch).order_by("serial"))


def certificates(directory: CaDirectory, card: Card) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(r.der) for r in directory.registry.by_card(card.serial)]


def test_a_loss_report_suspends_the_real_certificates_and_its_revocation_resumes_them(
        world: World, systems: Systems, office: Office, pki_ca: PkiCitizenCa,
        ca_directory: CaDirectory) -> None:
    exchange_world(world, pki_ca)
    (card,) = produce_with_certificates(world, systems, office)
    assert card.certificate_state == CertificateState.ACTIVE
    records = ca_directory.registry.by_card(card.serial)
    assert sorted((r.usage, r.key_algorithm) for r in records) == sorted(SLOTS)
    assert all(r.card.issue_date == TODAY and r.card.renewal_date == card.renewal_date for r in records)
    assert card.certificate_not_after == min(r.not_after for r in records)
    # The package carried the four certificates, in slot order.
    line = PackageLine.objects.get(serial=card.serial).line
    assert line.count(b"BEGIN CERTIFICATE") == 4
    for state in (CardState.SHIPPED, CardState.RECEIVED, CardState.QC_PASSED, CardState.NOTIFIED,
                  CardState.ISSUED):
        transition([card.pk], state, actor="t", now=world.clock())
    issued = certificates(ca_directory, card)
    for certificate in issued:
        assert ocsp_status(ca_directory, certificate, NOW).certificate_status is ocsp.OCSPCertStatus.GOOD

    do_report_loss(card.person, channel=LossChannel.ONLINE, now=world.clock, ca=pki_ca)
    for certificate in issued:
        held = ocsp_status(ca_directory, certificate, NOW)
        assert held.certificate_status is ocsp.OCSPCertStatus.REVOKED
        assert held.revocation_reason is x509.ReasonFlags.certificate_hold
    world.clock.advance(minutes=10)
    do_revoke_loss(card.person, channel=LossChannel.ONLINE, now=world.clock, ca=pki_ca)
    for certificate in issued:
        assert ocsp_status(ca_directory, certificate, NOW).certificate_status is ocsp.OCSPCertStatus.GOOD
    assert Card.objects.get(pk=card.pk).certificate_state == CertificateState.ACTIVE


def test_issue_is_idempotent_and_revoke_is_for_good(world: World, systems: Systems, office: Office,
                                                   pki_ca: PkiCitizenCa, ca_directory: CaDirectory) -> None:
    exchange_world(world, pki_ca)
    (card,) = produce_with_certificates(world, systems, office)
    ref = CardRef(card.pk, card.serial)
    request = CertificateRequest(ref, card.issue_date, card.renewal_date)
    (again,) = pki_ca.issue([request])  # a retried production step: the same certificates
    assert len(ca_directory.registry.by_card(card.serial)) == 4
    assert again.not_after == card.certificate_not_after
    pki_ca.suspend([ref])
    pki_ca.suspend([ref])  # already suspended: left alone
    pki_ca.revoke([ref], RevocationReason.CESSATION_OF_OPERATION)
    pki_ca.revoke([ref], RevocationReason.CESSATION_OF_OPERATION)
    pki_ca.resume([ref])  # nothing suspended any more: nothing to do
    records = ca_directory.registry.by_card(card.serial)
    assert {r.status for r in records} == {CertificateStatus.REVOKED}
    assert pki_ca.certificate_pems(card.serial) == ()
    for certificate in certificates(ca_directory, card):
        gone = ocsp_status(ca_directory, certificate, NOW)
        assert gone.revocation_reason is x509.ReasonFlags.cessation_of_operation


def test_certificates_of_keys_the_card_no_longer_has_are_superseded(
        world: World, office: Office, pki_ca: PkiCitizenCa, ca_directory: CaDirectory) -> None:
    make_application(make_person(), office)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    card = Card.objects.get(batch=batch)
    request = CertificateRequest(CardRef(card.pk, card.serial), card.issue_date, card.renewal_date)
    first_chip = PkiCitizenCa(ca_directory, csrs=lambda serial: _csrs(10, 11))
    first_chip.issue([request])
    first = {r.serial for r in ca_directory.registry.by_card(card.serial)}
    second_chip = PkiCitizenCa(ca_directory, csrs=lambda serial: _csrs(12, 13))
    second_chip.issue([request])
    second_chip.issue([request])
    records = {r.serial: r for r in ca_directory.registry.by_card(card.serial)}
    assert len(records) == 8 and first <= set(records)
    assert {records[s].status for s in first} == {CertificateStatus.REVOKED}
    assert {r.status for s, r in records.items() if s not in first} == {CertificateStatus.GOOD}
    assert len(second_chip.certificate_pems(card.serial)) == 4


def _csrs(first: int, second: int) -> Any:
    from neweid.server.cards.pki_ca import CardCsrs
    from tests.test_ca_support import csr_for, ec_key, rsa_key

    return CardCsrs(csr_for(rsa_key(first)), csr_for(rsa_key(second)), csr_for(ec_key(first)),
                    csr_for(ec_key(second)))


def test_a_defective_chip_loses_its_certificates(world: World, systems: Systems, office: Office,
                                                 pki_ca: PkiCitizenCa, ca_directory: CaDirectory) -> None:
    exchange_world(world, pki_ca)
    make_application(make_person(), office)
    stock_chips(systems.production, 1)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    do_send_batch(batch.pk, centre=world.centre, now=world.clock())
    card = Card.objects.get(batch=batch)
    assert {r.status for r in ca_directory.registry.by_card(card.serial)} == {CertificateStatus.GOOD}
    do_receive_status(decode_file(status_file(batch.reference, [(card.serial, "defective")], note="dead")),
                      system=systems.production)
    do_apply_production_status(batch.pk, centre=world.centre, ca=world.ca, now=world.clock())
    assert Card.objects.get(pk=card.pk).state == CardState.DEFECTIVE
    assert {r.status for r in ca_directory.registry.by_card(card.serial)} == {CertificateStatus.REVOKED}


def test_refusals_and_missing_key_material(world: World, office: Office, pki_ca: PkiCitizenCa) -> None:
    make_application(make_person(), office)
    (batch,) = do_create_batches(TODAY, registry=world.registry, now=world.clock())
    card = Card.objects.get(batch=batch)
    request = CertificateRequest(CardRef(card.pk, card.serial), card.issue_date, card.renewal_date)
    with pytest.raises(CitizenCaRefusedError) as refused:  # no blank chip assigned: no CSRs
        pki_ca.issue([request])
    assert refused.value.refusal == "bad-csr" and str(refused.value.code) == "C703"
    assert card.person.id_number not in str(refused.value)
    wrong = PkiCitizenCa(pki_ca.directory, csrs=lambda serial: _swapped_csrs())
    with pytest.raises(CitizenCaRefusedError) as refused:
        wrong.issue([request])
    assert refused.value.refusal == "wrong-key-type"
    assert pki_ca.directory.registry.by_card(card.serial) == []


def _swapped_csrs() -> Any:
    from neweid.server.cards.pki_ca import CardCsrs
    from tests.server.test_exchange_support import csrs

    sign_rsa, encrypt_rsa, sign_ec, encrypt_ec = (c.encode() for c in csrs())
    return CardCsrs(sign_ec, encrypt_rsa, sign_rsa, encrypt_ec)


def test_the_settings_factory(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWEID_KEYSTORE_PASSPHRASE", "ca tests only")
    directory = make_ca(tmp_path / "ca", Clock(NOW))
    directory.close()
    settings.NEWEID_CITIZEN_CA = "neweid.server.cards.pki_ca.from_settings"
    settings.NEWEID_CITIZEN_CA_DIR = str(tmp_path / "ca")
    try:
        ca = get_citizen_ca()
        assert isinstance(ca, PkiCitizenCa) and get_citizen_ca() is ca  # opened once per process
        assert ca.directory.hierarchy.issuing.subject == directory.hierarchy.issuing.subject
        assert {(u, a) for u, a in SLOTS} == {(u, a) for u in CertificateUsage for a in KeyAlgorithm}
    finally:
        close_all()
    settings.NEWEID_CITIZEN_CA_DIR = str(tmp_path / "nowhere")
    with pytest.raises(CitizenCaUnavailableError):
        from_settings()
