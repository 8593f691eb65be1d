"""Signatures and keys of CV certificates (neweid.crypto.cvc): the BSI worked example chain verifies; our own
certificates and requests sign and verify; every tampering is refused."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.cvc import (
    CvKey,
    curve_from_domain,
    cv_public_key_from_crypto,
    cv_public_key_to_crypto,
    domain_from_curve,
    ecdsa_sign_plain,
    ecdsa_verify_plain,
    hash_for_ta_oid,
    sign_cv_certificate,
    sign_cv_request,
    verify_cv_chain,
    verify_cv_request,
    verify_cv_signature,
)
from neweid.crypto.ec import BRAINPOOL_P512R1, CURVES, NIST_P256, NIST_P521
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.formats.chat import ALL_RIGHTS, NeidRight, Role
from neweid.formats.cvc import (
    ID_TA_ECDSA_SHA_256,
    ID_TA_ECDSA_SHA_512,
    PROFILE_ID,
    Chat,
    CvCertificate,
    CvCertificateBody,
    CvRequestBody,
    DomainParameters,
    decode_cv_certificate,
)
from tests.vectors_loader import BSI_ECDH, group

TA = group(BSI_ECDH, "ta")
DAY = datetime.date(2026, 11, 1)
YEAR = datetime.date(2027, 10, 31)


def bsi_chain() -> tuple[CvCertificate, CvCertificate, CvCertificate]:
    cvca, dv, terminal = (decode_cv_certificate(TA.hex(name))
                          for name in ("cvca_certificate", "dv_certificate", "terminal_certificate"))
    return cvca, dv, terminal


def test_worked_example_chain_verifies() -> None:
    cvca, dv, terminal = bsi_chain()
    anchor = CvKey.from_cvca(cvca)
    assert anchor.curve == BRAINPOOL_P512R1
    verify_cv_signature(cvca, anchor)  # self-signed
    key = verify_cv_chain([dv, terminal], anchor)
    assert key.chr == "DETESTATDE019" and key.curve == BRAINPOOL_P512R1
    assert key.certificate == terminal


def test_worked_example_tampered_certificate_is_refused() -> None:
    cvca, dv, _ = bsi_chain()
    bad = CvCertificate(dv.body, dv.signature[:-1] + bytes([dv.signature[-1] ^ 1]), dv.body_der)
    with pytest.raises(AuthenticationError, match="signature of DETESTDVDE019"):
        verify_cv_signature(bad, CvKey.from_cvca(cvca))
    with pytest.raises(AuthenticationError, match="has 127 bytes"):
        verify_cv_signature(CvCertificate(dv.body, dv.signature[1:], dv.body_der), CvKey.from_cvca(cvca))


def test_wrong_issuer_and_broken_links_are_refused() -> None:
    cvca, dv, terminal = bsi_chain()
    anchor = CvKey.from_cvca(cvca)
    with pytest.raises(AuthenticationError, match="issued by DETESTDVDE019"):
        verify_cv_signature(terminal, anchor)
    with pytest.raises(AuthenticationError):
        verify_cv_chain([terminal], anchor)
    stranger = ec.generate_private_key(ec.BrainpoolP512R1()).public_key()
    with pytest.raises(AuthenticationError):  # the right curve, another key
        verify_cv_signature(dv, stranger)
    with pytest.raises(CryptoError, match="no domain parameters"):
        CvKey.from_cvca(dv)


def test_curves_and_domain_parameters() -> None:
    for curve in CURVES:
        assert curve_from_domain(domain_from_curve(curve)) == curve
    cvca = bsi_chain()[0]
    assert cvca.body.public_key.domain == domain_from_curve(BRAINPOOL_P512R1)
    odd = dataclasses.replace(domain_from_curve(NIST_P521), b=5)
    with pytest.raises(CryptoError, match="standardised curve"):
        curve_from_domain(odd)
    with pytest.raises(CryptoError, match="unsupported Terminal Authentication"):
        hash_for_ta_oid("1.2.3")


def test_key_conversions_round_trip() -> None:
    private = ec.generate_private_key(ec.SECP521R1())
    cv = cv_public_key_from_crypto(private.public_key(), ID_TA_ECDSA_SHA_512, with_domain=True)
    assert cv.domain is not None and curve_from_domain(cv.domain) == NIST_P521
    assert len(cv.point) == 133
    assert cv_public_key_to_crypto(cv).public_numbers() == private.public_key().public_numbers()
    bare = cv_public_key_from_crypto(private.public_key(), ID_TA_ECDSA_SHA_512)
    assert bare.domain is None
    assert cv_public_key_to_crypto(bare, NIST_P521).public_numbers() == private.public_key().public_numbers()
    with pytest.raises(CryptoError, match="no domain parameters"):
        cv_public_key_to_crypto(bare)
    with pytest.raises(CryptoError):  # the point is not on P-256
        cv_public_key_to_crypto(bare, NIST_P256)


def test_plain_ecdsa_signatures() -> None:
    key = ec.generate_private_key(ec.SECP521R1())
    signature = ecdsa_sign_plain(key, b"message", ID_TA_ECDSA_SHA_512)
    assert len(signature) == 132
    ecdsa_verify_plain(key.public_key(), b"message", signature, ID_TA_ECDSA_SHA_512)
    with pytest.raises(AuthenticationError):
        ecdsa_verify_plain(key.public_key(), b"messagE", signature, ID_TA_ECDSA_SHA_512)
    with pytest.raises(AuthenticationError):  # the hash is part of the algorithm
        ecdsa_verify_plain(key.public_key(), b"message", signature, ID_TA_ECDSA_SHA_256)
    with pytest.raises(AuthenticationError):
        ecdsa_verify_plain(key.public_key(), b"message", bytes(132), ID_TA_ECDSA_SHA_512)


def _body(car: str, chr_: str, key: ec.EllipticCurvePrivateKey, role: Role, rights: NeidRight,
          with_domain: bool = False) -> CvCertificateBody:
    return CvCertificateBody(PROFILE_ID, car, cv_public_key_from_crypto(key.public_key(), ID_TA_ECDSA_SHA_512,
                                                                        with_domain=with_domain),
                             chr_, Chat.neid(role, rights), DAY, YEAR)


def test_own_p521_chain_signs_and_verifies() -> None:
    cvca_key, dv_key, term_key = (ec.generate_private_key(ec.SECP521R1()) for _ in range(3))
    cvca = sign_cv_certificate(_body("TWCVCA00001", "TWCVCA00001", cvca_key, Role.CVCA, ALL_RIGHTS, True),
                               lambda d: ecdsa_sign_plain(cvca_key, d, ID_TA_ECDSA_SHA_512))
    dv = sign_cv_certificate(_body("TWCVCA00001", "TWDVMOI00001", dv_key, Role.DV_OFFICIAL, ALL_RIGHTS),
                             lambda d: ecdsa_sign_plain(cvca_key, d, ID_TA_ECDSA_SHA_512))
    term = sign_cv_certificate(
        _body("TWDVMOI00001", "TWMOI00001", term_key, Role.TERMINAL, NeidRight.READ_SPOUSE),
        lambda d: ecdsa_sign_plain(dv_key, d, ID_TA_ECDSA_SHA_512))
    anchor = CvKey.from_cvca(cvca)
    verify_cv_signature(cvca, anchor)
    final = verify_cv_chain([dv, term], anchor)
    assert final.public_key.public_numbers() == term_key.public_key().public_numbers()
    verify_cv_signature(dv, cvca_key.public_key())  # bare key: the hash from the certificate's OID
    with pytest.raises(AuthenticationError):
        verify_cv_chain([dv, term], CvKey.from_cvca(sign_cv_certificate(
            _body("TWCVCA00001", "TWCVCA00001", dv_key, Role.CVCA, ALL_RIGHTS, True),
            lambda d: ecdsa_sign_plain(dv_key, d, ID_TA_ECDSA_SHA_512))))
    with pytest.raises(CryptoError):
        verify_cv_signature(dv, "not a key")  # type: ignore[arg-type]


def test_requests_sign_and_verify_inner_and_outer() -> None:
    old, new = ec.generate_private_key(ec.SECP521R1()), ec.generate_private_key(ec.SECP521R1())
    body = CvRequestBody(PROFILE_ID, "TWCVCA00001", cv_public_key_from_crypto(
        new.public_key(), ID_TA_ECDSA_SHA_512, with_domain=True), "TWMOI00002")
    plain = sign_cv_request(body, lambda d: ecdsa_sign_plain(new, d, ID_TA_ECDSA_SHA_512))
    verify_cv_request(plain)
    old_cert = sign_cv_certificate(_body("TWDVMOI00001", "TWMOI00001", old, Role.TERMINAL, NeidRight.NONE),
                                   lambda d: ecdsa_sign_plain(old, d, ID_TA_ECDSA_SHA_512))
    old_key = CvKey("TWMOI00001", ID_TA_ECDSA_SHA_512, NIST_P521, old.public_key(), old_cert)
    authenticated = sign_cv_request(body, lambda d: ecdsa_sign_plain(new, d, ID_TA_ECDSA_SHA_512),
                                    outer_car="TWMOI00001",
                                    outer_signer=lambda d: ecdsa_sign_plain(old, d, ID_TA_ECDSA_SHA_512))
    assert authenticated.authenticated
    verify_cv_request(authenticated, outer_key=old_key)
    with pytest.raises(CryptoError, match="give its key"):
        verify_cv_request(authenticated)
    wrong = CvKey("TWMOI00001", ID_TA_ECDSA_SHA_512, NIST_P521, new.public_key())
    with pytest.raises(AuthenticationError, match="outer signature"):
        verify_cv_request(authenticated, outer_key=wrong)
    with pytest.raises(AuthenticationError, match="not TWX"):
        verify_cv_request(authenticated, outer_key=dataclasses.replace(old_key, chr="TWX00001"))
    forged_signature = ecdsa_sign_plain(old, plain.body_der, ID_TA_ECDSA_SHA_512)
    forged = dataclasses.replace(plain, inner_signature=forged_signature)
    with pytest.raises(AuthenticationError, match="inner signature"):
        verify_cv_request(forged)
    with pytest.raises(CryptoError, match="both"):
        sign_cv_request(body, lambda d: b"s", outer_car="TWMOI00001")


def test_explicit_unknown_domain_is_refused_for_keys() -> None:
    cv = cv_public_key_from_crypto(ec.generate_private_key(ec.SECP256R1()).public_key(), ID_TA_ECDSA_SHA_256)
    domain = DomainParameters(NIST_P256.p, NIST_P256.a, 1, b"\x04" + bytes(64), NIST_P256.n, 1)
    with pytest.raises(CryptoError, match="standardised curve"):
        cv_public_key_to_crypto(cv, domain)


def test_plain_signatures_with_short_halves_verify_as_openpace_writes_them() -> None:
    """OpenPACE drops a leading zero byte common to r and s (130-byte signatures on P-521)."""
    key = ec.generate_private_key(ec.SECP521R1())
    for _ in range(400):
        signature = ecdsa_sign_plain(key, b"m", ID_TA_ECDSA_SHA_512)
        if signature[0] == 0 and signature[66] == 0:
            break
    else:  # pragma: no cover - probability 0.75 ** 400
        pytest.fail("no signature with two short halves")
    short = signature[1:66] + signature[67:]
    ecdsa_verify_plain(key.public_key(), b"m", short, ID_TA_ECDSA_SHA_512)
    with pytest.raises(AuthenticationError, match="has 131 bytes"):
        ecdsa_verify_plain(key.public_key(), b"m", short + b"\x00", ID_TA_ECDSA_SHA_512)
    with pytest.raises(AuthenticationError, match="has 134 bytes"):
        ecdsa_verify_plain(key.public_key(), b"m", b"\x00" + signature[:66] + b"\x00" + signature[66:],
                           ID_TA_ECDSA_SHA_512)
