"""Personalisation for EAC and the certificate zone (PROD-4, CARD-4, CARD-6, MGMT-5, PKI-5): the CA key in
EF.CardSecurity, the CVCA trust point, card-signed certificate requests, the development issuer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from neweid.card import VirtualCard
from neweid.crypto.passive import verify_card_security
from neweid.formats.filemap import Interface
from neweid.formats.security_infos import (
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    TerminalAuthenticationInfo,
    decode_security_infos,
)
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, CertificateHolder, card_content
from neweid.production.certificates import (
    CSR_SIGNING_KEY,
    IssuerError,
    build_card_csr,
    verify_card_csr,
)
from neweid.production.dev_issuer import DevelopmentIssuer
from neweid.production.personalise import PersonalisationError, personalise
from neweid.terminal.certzone import CertificateKey
from neweid.terminal.reader import NewEidReader
from neweid.terminal.transport import InProcessTransport
from tests.test_terminal_eac_support import NOW, EacChain, SmallIssuer, eac_card


def _spki(key: object) -> bytes:
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_card_security_names_the_chip_authentication_key(test_pki: TestPki, tmp_path: Path) -> None:
    made = eac_card(tmp_path / "c.card", test_pki, seed=31)
    assert made.made.ca_public_key is not None
    with NewEidReader(InProcessTransport(made.load(), Interface.CONTACT), [test_pki.csca_certificate],
                      now=lambda: NOW) as reader:
        reader.open_with_can(made.made.secrets.can)
        security = verify_card_security(reader.read_card_security(), [test_pki.csca_certificate], at=NOW)
        reader.session.select_mf()
        access = decode_security_infos(reader.session.read_binary_file(sfi=0x1C))
    keys = [i for i in security.security_infos if isinstance(i, ChipAuthenticationPublicKeyInfo)]
    assert len(keys) == 1 and keys[0].key_id == 1
    assert keys[0].public_key == _spki(made.made.ca_public_key)
    assert _spki(made.made.ca_public_key) != _spki(made.made.aa_public_key)
    assert any(isinstance(i, ChipAuthenticationInfo) and i.key_id == 1 for i in security.security_infos)
    assert any(isinstance(i, ChipAuthenticationInfo) for i in access)
    assert any(isinstance(i, TerminalAuthenticationInfo) for i in access)
    assert not any(isinstance(i, ChipAuthenticationPublicKeyInfo) for i in access)


def test_old_profile_without_chip_authentication(test_pki: TestPki, tmp_path: Path) -> None:
    rng = random.Random(32)
    citizen = generate_citizen(rng, today=NOW.date())
    card = VirtualCard.create(tmp_path / "old.card")
    transport = InProcessTransport(card, Interface.CONTACT)
    made = personalise(transport, card_content(citizen, make_photo(rng, citizen)),
                       CardSecrets.generate(rng, citizen.card_serial), test_pki.document_signer, now=NOW,
                       chip_authentication=False)
    assert made.ca_public_key is None and made.certificate_zone is None and not made.cvca_installed


def test_certificate_zone_personalisation(test_pki: TestPki, tmp_path: Path) -> None:
    issuer = SmallIssuer()
    made = eac_card(tmp_path / "z.card", test_pki, seed=33, issuer=issuer)
    zone = made.made.certificate_zone
    assert zone is not None
    assert sorted(zone.certificates) == [1, 2, 3, 4, 5, 6]
    assert zone.certificates[1] == issuer.root_certificate
    assert zone.certificates[2] == issuer.intermediate_certificate
    assert [usage for usage, _ in issuer.requests] == list(CSR_SIGNING_KEY)
    holder = CertificateHolder.of(made.made.content)
    for usage, csr in issuer.requests:
        assert _spki(csr.public_key()) == _spki(zone.public_keys[usage])
        common_name = csr.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
        assert common_name == holder.chinese_name
        assert holder.id_number not in csr.subject.rfc4514_string()  # no ID number in certificates
        assert csr.is_signature_valid == (CSR_SIGNING_KEY[usage] is usage)
        cert = x509.load_der_x509_certificate(zone.certificates[usage.certificate_number])
        assert _spki(cert.public_key()) == _spki(zone.public_keys[usage])


def test_cvca_trust_point_installed(test_pki: TestPki, tmp_path: Path) -> None:
    chain = EacChain()
    made = eac_card(tmp_path / "t.card", test_pki, seed=34, cvcas=[chain.cvca])
    assert made.made.cvca_installed


def test_a_bad_cvca_stops_personalisation(test_pki: TestPki, tmp_path: Path) -> None:
    with pytest.raises(PersonalisationError) as info:
        eac_card(tmp_path / "bad.card", test_pki, seed=35, cvcas=[b"\x7f\x21\x03\x01\x02\x03"])
    assert "CVCA" in info.value.step


class _WrongKeyIssuer(SmallIssuer):
    def issue(self, csr_der: bytes, usage: CertificateKey, holder: CertificateHolder) -> bytes:
        other = SmallIssuer()
        other_key = ec.generate_private_key(ec.SECP521R1())
        name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "x")])
        cert = other._build(name, name, other_key.public_key(), other_key, ca=False)
        return cert.public_bytes(serialization.Encoding.DER)


def test_certificate_for_another_key_is_refused(test_pki: TestPki, tmp_path: Path) -> None:
    with pytest.raises(IssuerError, match="another key"):
        eac_card(tmp_path / "w.card", test_pki, seed=36, issuer=_WrongKeyIssuer())


def _holder() -> CertificateHolder:
    return CertificateHolder("王小明", "WANG, HSIAO-MING", "A123456789", dt.date(1990, 1, 1), "NE0000001",
                             dt.date(2036, 1, 1))


def test_csr_of_an_encryption_key_is_checked_with_the_signing_key() -> None:
    sign_key = rsa.generate_private_key(65537, 2048)
    enc_key = rsa.generate_private_key(65537, 2048)

    def card_sign(usage: CertificateKey, payload: bytes) -> bytes:
        assert usage is CertificateKey.RSA_SIGN  # the chip signs only with its signing keys
        return sign_key.sign(payload[19:], padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    der = build_card_csr(CertificateKey.RSA_ENCRYPT, enc_key.public_key(), _holder(), card_sign,
                         sign_key.public_key())
    csr = verify_card_csr(der, CertificateKey.RSA_ENCRYPT, sign_key.public_key())
    assert _spki(csr.public_key()) == _spki(enc_key.public_key())
    with pytest.raises(IssuerError, match="give its public key"):
        verify_card_csr(der, CertificateKey.RSA_ENCRYPT)
    with pytest.raises(IssuerError, match="not signed"):
        verify_card_csr(der, CertificateKey.RSA_ENCRYPT, enc_key.public_key())
    with pytest.raises(IssuerError, match="does not verify"):
        verify_card_csr(der, CertificateKey.RSA_SIGN)  # as a self-signed request it is wrong
    with pytest.raises(IssuerError, match="not DER"):
        verify_card_csr(b"\x30\x00", CertificateKey.RSA_SIGN)


def test_csr_key_type_must_match_its_usage() -> None:
    key = ec.generate_private_key(ec.SECP521R1()).public_key()
    with pytest.raises(IssuerError, match="wrong type"):
        build_card_csr(CertificateKey.RSA_SIGN, key, _holder(), lambda usage, payload: b"")


def test_development_issuer_persists_and_respects_the_renewal_date(tmp_path: Path) -> None:
    first = DevelopmentIssuer.open_or_create(tmp_path, now=NOW, passphrase=b"x")
    again = DevelopmentIssuer.open_or_create(tmp_path, now=NOW, passphrase=b"x")
    assert first.root_certificate == again.root_certificate
    root = x509.load_der_x509_certificate(first.root_certificate)
    intermediate = x509.load_der_x509_certificate(first.intermediate_certificate)
    intermediate.verify_directly_issued_by(root)

    key = ec.generate_private_key(ec.SECP521R1())

    def card_sign(usage: CertificateKey, digest: bytes) -> bytes:
        r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA512()))))
        return r.to_bytes(66, "big") + s.to_bytes(66, "big")

    holder = dataclasses.replace(_holder(), renewal_date=dt.date(2028, 3, 1))
    csr = build_card_csr(CertificateKey.EC_SIGN, key.public_key(), holder, card_sign)
    cert = x509.load_der_x509_certificate(first.issue(csr, CertificateKey.EC_SIGN, holder))
    cert.verify_directly_issued_by(intermediate)
    assert cert.not_valid_after_utc == dt.datetime(2028, 3, 1, tzinfo=dt.UTC)  # CARD-10: not past renewal
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment
    with pytest.raises(IssuerError):
        first.issue(csr[:-3] + b"\x00\x00\x00", CertificateKey.EC_SIGN, holder)
