"""Citizen-certificate profile (PKI-2, CARD-6): CSR checks, subject, key usage, extensions; the DER helper."""

from __future__ import annotations

import datetime

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import given
from hypothesis import strategies as st

from neweid.pki.ca import _der
from neweid.pki.ca.errors import CsrError, Refusal
from neweid.pki.ca.oids import ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES, ID_PKIX_OCSP_NOCHECK, POLICY_GPKI_CLASS3
from neweid.pki.ca.profiles import (
    CaUrls,
    CertificateUsage,
    KeyAlgorithm,
    Subscriber,
    card_serial_attribute,
    load_csr,
    random_serial,
    read_card_serial,
)
from tests.test_ca_support import CARD, ID_NUMBER, SUBSCRIBER, Clock, csr_for, ec_key, make_ca, rsa_key


def test_csr_rsa_2048_and_p521_accepted_pem_and_der() -> None:
    assert load_csr(csr_for(rsa_key(0))).algorithm is KeyAlgorithm.RSA_2048
    assert load_csr(csr_for(ec_key(0), pem=False)).algorithm is KeyAlgorithm.EC_P521


def test_csr_with_bad_signature_refused() -> None:
    der = bytearray(csr_for(ec_key(0), pem=False))
    der[-5] ^= 0x01  # inside the signature value
    with pytest.raises(CsrError) as info:
        load_csr(bytes(der))
    assert info.value.code in {Refusal.BAD_CSR_SIGNATURE, Refusal.BAD_CSR}
    # a CSR whose body was changed after signing: a valid structure, a wrong signature
    request = x509.load_der_x509_csr(csr_for(rsa_key(0), pem=False))
    other = x509.load_der_x509_csr(csr_for(rsa_key(1), pem=False))
    from asn1crypto import csr as acsr

    mixed = acsr.CertificationRequest.load(request.public_bytes(serialization.Encoding.DER))
    mixed_other = acsr.CertificationRequest.load(other.public_bytes(serialization.Encoding.DER))
    forged = acsr.CertificationRequest(
        {
            "certification_request_info": mixed_other["certification_request_info"],
            "signature_algorithm": mixed["signature_algorithm"],
            "signature": mixed["signature"],
        }
    )
    with pytest.raises(CsrError) as info2:
        load_csr(forged.dump())
    assert info2.value.code is Refusal.BAD_CSR_SIGNATURE


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (lambda: rsa_key(9, 1024), Refusal.WRONG_KEY_SIZE),
        (lambda: rsa_key(9, 3072), Refusal.WRONG_KEY_SIZE),
        (lambda: ec_key(9, "secp256r1"), Refusal.WRONG_KEY_SIZE),
    ],
)
def test_csr_wrong_key_size_refused(key: object, code: Refusal) -> None:
    with pytest.raises(CsrError) as info:
        load_csr(csr_for(key()))  # type: ignore[operator]
    assert info.value.code is code


def test_csr_wrong_key_type_refused() -> None:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(ed25519.Ed25519PrivateKey.generate(), None)
    )
    with pytest.raises(CsrError) as info:
        load_csr(request.public_bytes(serialization.Encoding.PEM))
    assert info.value.code is Refusal.WRONG_KEY_TYPE


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END"])
def test_csr_garbage_refused(data: bytes) -> None:
    with pytest.raises(CsrError):
        load_csr(data)


def test_subscriber_keeps_only_last_four_of_id_number() -> None:
    assert SUBSCRIBER.id_last4 == "6789"
    assert ID_NUMBER not in repr(SUBSCRIBER)
    with pytest.raises(CsrError, match="ID number") as info:
        Subscriber.from_id_number("王小明", "A123456780", "NE0000123456")
    assert "A123456780" not in str(info.value)
    with pytest.raises(CsrError):
        Subscriber("王小明", "6789", "lowercase123456")
    with pytest.raises(CsrError):
        Subscriber(" 王小明", "6789", "NE0000123456")


@given(st.from_regex(r"[0-9A-Z]{0,26}[0-9]{6}", fullmatch=True))
def test_card_serial_attribute_round_trip(serial: str) -> None:
    assert read_card_serial(card_serial_attribute(serial)) == serial


def test_random_serial_is_positive_16_octets() -> None:
    values = {random_serial() for _ in range(50)}
    assert len(values) == 50
    assert all(1 << 126 <= v < 1 << 127 for v in values)


def test_base_url_must_end_with_slash() -> None:
    with pytest.raises(CsrError):
        CaUrls("http://example.org")
    assert (
        CaUrls("http://ca.example.tw:9000/moica/").full_crl == "http://ca.example.tw:9000/moica/crl/full.crl"
    )


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    opened = make_ca(tmp_path_factory.mktemp("ca-profiles") / "ca", Clock(), "http://ca.test:8080/")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    ("usage", "algorithm", "index"),
    [
        (CertificateUsage.SIGN, "rsa", 0),
        (CertificateUsage.ENCRYPT, "rsa", 1),
        (CertificateUsage.SIGN, "ec", 0),
        (CertificateUsage.ENCRYPT, "ec", 1),
    ],
)
def test_four_certificates_per_card_profile(ca, usage: CertificateUsage, algorithm: str, index: int) -> None:  # type: ignore[no-untyped-def]
    key = rsa_key(index) if algorithm == "rsa" else ec_key(index)
    cert = ca.ra.operator("t").issue(csr_for(key), SUBSCRIBER, usage, CARD).certificate
    cert.verify_directly_issued_by(ca.hierarchy.issuing)
    assert cert.signature_hash_algorithm is not None and cert.signature_hash_algorithm.name == "sha512"
    assert cert.subject.rfc4514_string() == "2.5.4.5=6789,CN=王小明,C=TW"
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
    assert cn._type.name == "UTF8String"
    der = cert.public_bytes(serialization.Encoding.DER)
    assert ID_NUMBER.encode() not in der and ID_NUMBER[1:].encode() not in der
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    sign = usage is CertificateUsage.SIGN
    assert ku.value.digital_signature is sign and ku.value.content_commitment is sign
    assert ku.value.key_encipherment is (not sign and algorithm == "rsa")
    assert ku.value.key_agreement is (not sign and algorithm == "ec")
    assert not ku.value.key_cert_sign and not ku.value.crl_sign
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    policies = [
        p.policy_identifier for p in cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    ]
    assert POLICY_GPKI_CLASS3 in policies and len(policies) == 2
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert cdp[0].full_name[0].value == "http://ca.test:8080/crl/full.crl"
    fresh = cert.extensions.get_extension_for_oid(ExtensionOID.FRESHEST_CRL).value
    assert fresh[0].full_name[0].value == "http://ca.test:8080/crl/delta.crl"
    aia = {
        d.access_method.dotted_string: d.access_location.value
        for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert aia == {
        "1.3.6.1.5.5.7.48.1": "http://ca.test:8080/",
        "1.3.6.1.5.5.7.48.2": "http://ca.test:8080/ca/issuing-ca.crt",
    }
    sda = cert.extensions.get_extension_for_oid(ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES)
    assert not sda.critical
    assert read_card_serial(sda.value.value) == "NE0000123456"
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert (
        aki == ca.hierarchy.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )
    assert cert.not_valid_before_utc == datetime.datetime(2026, 11, 1, 16, tzinfo=datetime.UTC)


def test_hierarchy_profile(ca) -> None:  # type: ignore[no-untyped-def]
    h = ca.hierarchy
    h.issuing.verify_directly_issued_by(h.root)
    h.ocsp.verify_directly_issued_by(h.issuing)
    assert h.root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 1
    issuing_bc = h.issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert issuing_bc.ca and issuing_bc.path_length == 0
    ku = h.issuing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
    eku = h.ocsp.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [o.dotted_string for o in eku] == ["1.3.6.1.5.5.7.3.9"]
    nocheck = h.ocsp.extensions.get_extension_for_oid(ID_PKIX_OCSP_NOCHECK)
    assert isinstance(nocheck.value, x509.OCSPNoCheck) and not nocheck.critical
    assert h.ocsp.not_valid_after_utc - h.ocsp.not_valid_before_utc == datetime.timedelta(days=90)
    for cert in (h.root, h.issuing, h.ocsp):
        assert cert.public_key().curve.name == "secp521r1"
        assert cert.signature_hash_algorithm is not None and cert.signature_hash_algorithm.name == "sha512"


# -- the DER helper, against asn1crypto ------------------------------------------------------------------


@given(st.integers(min_value=-(1 << 200), max_value=1 << 200))
def test_der_integer_matches_asn1crypto(value: int) -> None:
    assert _der.integer(value) == core.Integer(value).dump()


@given(st.binary(min_size=0, max_size=40))
def test_der_integer_from_unsigned(value: bytes) -> None:
    encoded = _der.integer_from_unsigned(value)
    assert core.Integer.load(encoded).native == int.from_bytes(value, "big")
    assert encoded == core.Integer(int.from_bytes(value, "big")).dump()


@given(st.lists(st.integers(0, 1 << 70), min_size=1, max_size=12), st.integers(0, 2), st.integers(0, 39))
def test_der_oid_matches_asn1crypto(arcs: list[int], first: int, second: int) -> None:
    dotted = ".".join(str(a) for a in (first, second if first < 2 else second * 1000, *arcs))
    assert _der.oid(dotted) == core.ObjectIdentifier(dotted).dump()


@given(st.binary(max_size=70000))
def test_der_lengths_match_asn1crypto(value: bytes) -> None:
    assert _der.octet_string(value) == core.OctetString(value).dump()


@given(
    st.datetimes(
        datetime.datetime(1950, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        datetime.datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.just(datetime.UTC),
    )
)
def test_der_time_follows_rfc5280(moment: datetime.datetime) -> None:
    moment = moment.replace(microsecond=0)
    encoded = _der.time(moment)
    parsed = (core.UTCTime if moment.year < 2050 else core.GeneralizedTime).load(encoded).native
    assert parsed == moment


@given(st.integers(min_value=-(1 << 40), max_value=1 << 40))
def test_der_enumerated_matches_asn1crypto(value: int) -> None:
    assert _der.enumerated(value)[1:] == core.Integer(value).dump()[1:]
    assert _der.enumerated(value)[0] == 0x0A
