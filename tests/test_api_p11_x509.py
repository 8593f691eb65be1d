"""The citizen-certificate library's X.509 part (API-3, table 11 "憑證解析", "CRL 解析", "OCSP 操作"):
certificate field getters, CRL parsing and searching, OCSP requests and answers."""

from __future__ import annotations

import datetime
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st

from neweid.terminal import p11_cert as pc
from neweid.terminal import p11_crl as pcrl
from neweid.terminal import p11_ocsp as po
from neweid.terminal.p11_errors import CertificateParseError, Ckr, OcspError, P11Error, SignatureInvalidError

NOW = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)
OCSP_URL = "http://ocsp.example.test/moica"
CRL_URL = "http://crl.example.test/moica.crl"
TYPES = pc.SubjectDirectoryTypes()


def _name(cn: str, serial: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if serial is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attrs)


def _sda(*attributes: tuple[str, bytes]) -> x509.UnrecognizedExtension:
    """subjectDirectoryAttributes: SEQUENCE OF Attribute {type, SET OF value-DER}."""
    body = b"".join(
        core.Sequence(contents=core.ObjectIdentifier(oid).dump() + core.SetOf(contents=value).dump()).dump()
        for oid, value in attributes)
    return x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.9"), core.Sequence(contents=body).dump())


@dataclass
class Pki:
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    user_key: rsa.RSAPrivateKey
    user: x509.Certificate
    responder_key: ec.EllipticCurvePrivateKey
    responder: x509.Certificate


def _ca_cert(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    public = key.public_key()
    return (x509.CertificateBuilder().subject_name(_name("MOICA Test")).issuer_name(_name("MOICA Test"))
            .public_key(public).serial_number(1).not_valid_before(NOW - timedelta(days=1))
            .not_valid_after(NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _ca_cert(ca_key)
    user_key = rsa.generate_private_key(65537, 2048)
    user = (x509.CertificateBuilder().subject_name(_name("王小明", "6789")).issuer_name(ca.subject)
            .public_key(user_key.public_key()).serial_number(0x1234_5678_9ABC)
            .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1825))
            .add_extension(x509.KeyUsage(False, False, True, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("citizen@example.tw")]),
                           critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(CRL_URL)], None, None, None)]), critical=False)
            .add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier(OCSP_URL)),
                x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                       x509.UniformResourceIdentifier("http://ca.example.test/moica.cer"))]),
                critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(user_key.public_key()), critical=False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                x509.ObjectIdentifier("2.16.886.101.0.3.3"), None)]), critical=False)
            .add_extension(_sda((TYPES.card_id, core.PrintableString("TW12345678").dump()),
                                (TYPES.subject_type, core.ObjectIdentifier("2.16.886.1.100.3.1").dump()),
                                (TYPES.holder_rank, core.UTF8String("正卡").dump()),
                                (TYPES.uid, core.Integer(42).dump())), critical=False)
            .sign(ca_key, hashes.SHA256()))
    responder_key = ec.generate_private_key(ec.SECP256R1())
    responder = (x509.CertificateBuilder().subject_name(_name("MOICA OCSP")).issuer_name(ca.subject)
                 .public_key(responder_key.public_key()).serial_number(7)
                 .not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=30))
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
                 .sign(ca_key, hashes.SHA256()))
    return Pki(ca_key, ca, user_key, user, responder_key, responder)


# -- certificate getters ---------------------------------------------------------------------------------
def test_der_and_pem_round_trip(pki: Pki) -> None:
    der = pc.cert_to_der(pki.user)
    assert pc.der_to_cert(der) == pki.user
    assert pc.der_to_cert(pki.user.public_bytes(serialization.Encoding.PEM)) == pki.user
    assert pc.cert_to_der(pc.der_to_cert(der)) == der


@given(st.binary(max_size=200))
def test_der_to_cert_rejects_garbage_with_domain_error(data: bytes) -> None:
    with pytest.raises(CertificateParseError) as info:
        pc.der_to_cert(data)
    assert info.value.code is Ckr.DATA_INVALID


def test_field_getters(pki: Pki) -> None:
    cert = pki.user
    assert pc.get_cert_serial_number(cert) == 0x1234_5678_9ABC
    assert pc.get_subject_dn(cert) == "2.5.4.5=6789,CN=王小明,C=TW"
    assert pc.get_issuer_dn(cert) == "CN=MOICA Test,C=TW"
    assert pc.get_not_before(cert) == NOW - timedelta(days=1)
    assert pc.get_not_after(cert) == NOW + timedelta(days=1825)
    assert pc.get_subject_alt_name(cert) == ["citizen@example.tw"]
    assert pc.get_key_usage(cert) == frozenset({"key_encipherment"})
    assert pc.is_key_usage_encipherment(cert) and not pc.is_key_usage_key_agreement(cert)
    assert pc.get_crl_distribution_points(cert) == [CRL_URL]
    assert pc.get_ocsp(cert) == [OCSP_URL]
    assert pc.get_ca_issuers(cert) == ["http://ca.example.test/moica.cer"]
    assert ("1.3.6.1.5.5.7.48.1", OCSP_URL) in pc.get_authority_info_access(cert)
    assert pc.get_cert_authority_key_identifier(cert) == pc.get_subject_key_identifier(pki.ca)
    assert pc.get_subject_key_identifier(cert) == x509.SubjectKeyIdentifier.from_public_key(
        pki.user_key.public_key()).digest
    assert pc.get_cert_policy_oids(cert) == ["2.16.886.101.0.3.3"]
    assert pc.get_cert_signature_algorithm(cert) == "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
    assert isinstance(pc.get_cert_public_key(cert), rsa.RSAPublicKey)
    ku = pc.get_extension_der(cert, "2.5.29.15")
    assert ku is not None and ku.startswith(b"\x03")  # the KeyUsage BIT STRING
    assert pc.get_extension_der(cert, "2.5.29.30") is None


def test_subject_directory_attributes(pki: Pki) -> None:
    cert = pki.user
    attributes = pc.get_subject_directory_attributes(cert)
    assert attributes[TYPES.card_id] == ["TW12345678"]
    assert pc.get_card_id(cert) == "TW12345678"
    assert pc.get_subject_type_oid(cert) == "2.16.886.1.100.3.1"
    assert pc.get_subject_holder_rank(cert) == "正卡"
    assert pc.get_subject_directory_attribute(cert, TYPES.uid) == 42
    assert pc.get_uid(cert) == "42"
    assert pc.get_entity_oid(cert) is None and pc.get_uniform_organization_id(cert) is None
    assert pc.get_cert_type_id(cert) is None
    # no attribute for it here: the subject's serialNumber (the project's citizen profile)
    assert pc.get_tail_of_citizen_id(cert) == "6789"
    custom = pc.SubjectDirectoryTypes(tail_of_citizen_id=TYPES.card_id)
    assert pc.get_tail_of_citizen_id(cert, custom) == "TW12345678"


def test_getters_on_a_bare_certificate(pki: Pki) -> None:
    assert pc.get_subject_directory_attributes(pki.ca) == {}
    assert pc.get_subject_alt_name(pki.ca) == [] and pc.get_ocsp(pki.ca) == []
    assert pc.get_key_usage(pki.ca) == frozenset() and pc.get_cert_authority_key_identifier(pki.ca) is None
    assert pc.get_tail_of_citizen_id(pki.ca) is None and pc.get_cert_policy_oids(pki.ca) == []


def test_verify_cert(pki: Pki) -> None:
    pc.verify_cert(pki.user, pki.ca)
    pc.verify_cert(pki.ca, pki.ca)
    with pytest.raises(SignatureInvalidError):
        pc.verify_cert(pki.user, pki.user)  # wrong issuer name
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor = _ca_cert(impostor_key)  # same name, other key
    with pytest.raises(SignatureInvalidError) as info:
        pc.verify_cert(pki.user, impostor)
    assert info.value.code is Ckr.SIGNATURE_INVALID


def test_p7b_to_certs(pki: Pki) -> None:
    der = pkcs7.serialize_certificates([pki.ca, pki.user], serialization.Encoding.DER)
    assert pc.p7b_to_certs(der) == [pki.ca, pki.user]
    pem = pkcs7.serialize_certificates([pki.user], serialization.Encoding.PEM)
    assert pc.p7b_to_certs(pem) == [pki.user]
    with pytest.raises(CertificateParseError):
        pc.p7b_to_certs(b"\x30\x03\x02\x01\x00")


# -- CRL -------------------------------------------------------------------------------------------------
def _crl(pki: Pki, *, key: ec.EllipticCurvePrivateKey | None = None, delta: int | None = None) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(pki.ca.subject)
               .last_update(NOW - timedelta(hours=1)).next_update(NOW + timedelta(days=1))
               .add_extension(x509.CRLNumber(17), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.ca_key.public_key()),
                              critical=False)
               .add_extension(x509.FreshestCRL([x509.DistributionPoint(
                   [x509.UniformResourceIdentifier(CRL_URL + ".delta")], None, None, None)]), critical=False))
    if delta is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(delta), critical=True)
    for serial, reason in ((0x1234_5678_9ABC, x509.ReasonFlags.certificate_hold), (99, None)):
        entry = (x509.RevokedCertificateBuilder().serial_number(serial)
                 .revocation_date(NOW - timedelta(hours=2)))
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key or pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_crl_parse_fields_and_search(pki: Pki) -> None:
    crl = pcrl.der_to_crl(_crl(pki))
    pcrl.verify_crl_signature(crl, pki.ca)
    assert pcrl.get_crl_issuer_dn(crl) == "CN=MOICA Test,C=TW"
    assert pcrl.get_this_update(crl) == NOW - timedelta(hours=1)
    assert pcrl.get_next_update(crl) == NOW + timedelta(days=1)
    assert pcrl.get_crl_number(crl) == 17
    assert pcrl.get_delta_crl_indicator(crl) is None
    assert pcrl.get_freshest_crl(crl) == [CRL_URL + ".delta"]
    assert pcrl.get_crl_authority_key_identifier(crl) == pc.get_subject_key_identifier(pki.ca)
    assert pcrl.get_crl_signature_algorithm(crl) == "1.2.840.10045.4.3.2"
    entry = pcrl.crl_search_cert(crl, pki.user)
    assert entry == pcrl.RevokedEntry(0x1234_5678_9ABC, NOW - timedelta(hours=2), "certificate_hold")
    assert pcrl.crl_search_sn(crl, 99) == pcrl.RevokedEntry(99, NOW - timedelta(hours=2), None)
    assert pcrl.crl_search_sn(crl, 100) is None
    assert pcrl.get_crl_revoked_count(crl) == 2
    assert {pcrl.get_crl_revoked_cert(crl, i).serial_number for i in range(2)} == {0x1234_5678_9ABC, 99}
    assert pcrl.get_delta_crl_indicator(pcrl.der_to_crl(_crl(pki, delta=16))) == 16


def test_crl_negative(pki: Pki) -> None:
    crl = pcrl.der_to_crl(_crl(pki, key=ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(SignatureInvalidError):
        pcrl.verify_crl_signature(crl, pki.ca)
    with pytest.raises(SignatureInvalidError):
        pcrl.verify_crl_signature(crl, pki.user)  # not the CRL's issuer
    with pytest.raises(P11Error) as info:
        pcrl.get_crl_revoked_cert(crl, 2)
    assert info.value.code is Ckr.ARGUMENTS_BAD
    with pytest.raises(P11Error):
        pcrl.crl_search_sn(crl, -1)
    with pytest.raises(CertificateParseError):
        pcrl.der_to_crl(b"not a CRL")


def test_crl_search_cert_of_another_issuer(pki: Pki) -> None:
    crl = pcrl.der_to_crl(_crl(pki))
    other = _ca_cert(ec.generate_private_key(ec.SECP256R1()))
    foreign = (x509.CertificateBuilder().subject_name(_name("x")).issuer_name(_name("Other CA"))
               .public_key(pki.user_key.public_key()).serial_number(99).not_valid_before(NOW)
               .not_valid_after(NOW + timedelta(days=1)).sign(pki.ca_key, hashes.SHA256()))
    assert pcrl.crl_search_cert(crl, other) is None  # same issuer name, serial 1 not listed
    with pytest.raises(P11Error):
        pcrl.crl_search_cert(crl, foreign)


# -- OCSP ------------------------------------------------------------------------------------------------
def _answer(pki: Pki, request_der: bytes, status: ocsp.OCSPCertStatus, *, delegate: bool = False,
            nonce: bytes | None = None, echo: bool = True, this_update: datetime.datetime = NOW,
            responder: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None) -> bytes:
    request = ocsp.load_der_ocsp_request(request_der)
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        request.issuer_name_hash, request.issuer_key_hash, request.serial_number, request.hash_algorithm,
        status, this_update, this_update + timedelta(hours=1),
        NOW - timedelta(hours=3) if status is ocsp.OCSPCertStatus.REVOKED else None,
        x509.ReasonFlags.key_compromise if status is ocsp.OCSPCertStatus.REVOKED else None)
    if responder is not None:
        cert = responder[0]
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, cert).certificates([cert])
    elif delegate:
        cert = pki.responder
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, cert).certificates([cert])
    else:
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.NAME, pki.ca)
    if echo:
        asked = request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        sent = nonce if nonce is not None else asked
        builder = builder.add_extension(x509.OCSPNonce(sent), critical=False)
    key = responder[1] if responder is not None else pki.responder_key if delegate else pki.ca_key
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _responder(pki: Pki, *, issued: bool = True,
               eku: bool = True) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(_name("Rogue OCSP")).issuer_name(pki.ca.subject)
               .public_key(key.public_key()).serial_number(8).not_valid_before(NOW - timedelta(days=1))
               .not_valid_after(NOW + timedelta(days=30)))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),
                                        critical=False)
    return builder.sign(pki.ca_key if issued else key, hashes.SHA256()), key


def _fixed_rng(n: int) -> bytes:
    return bytes(range(n))


def test_ocsp_check_cert_good_via_aia(pki: Pki) -> None:
    seen: list[str] = []

    def post(url: str, body: bytes) -> bytes:
        seen.append(url)
        request = ocsp.load_der_ocsp_request(body)
        assert request.serial_number == pki.user.serial_number
        assert request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == _fixed_rng(16)
        return _answer(pki, body, ocsp.OCSPCertStatus.GOOD)

    result = po.ocsp_check_cert(pki.user, pki.ca, post=post, now=lambda: NOW, rng=_fixed_rng)
    assert seen == [OCSP_URL]
    assert result.status is po.CertStatus.GOOD and result.serial_number == pki.user.serial_number
    assert result.this_update == NOW and result.revocation_time is None


def test_ocsp_check_sn_revoked_by_delegated_responder(pki: Pki) -> None:
    def post(url: str, body: bytes) -> bytes:
        return _answer(pki, body, ocsp.OCSPCertStatus.REVOKED, delegate=True)

    result = po.ocsp_check_sn(1234, pki.ca, "http://other.example.test/", post=post, now=lambda: NOW)
    assert result.status is po.CertStatus.REVOKED
    assert result.revocation_time == NOW - timedelta(hours=3)
    assert result.revocation_reason == "key_compromise"


@pytest.mark.parametrize("case", ["wrong nonce", "foreign signer", "stale", "future", "not delegated"])
def test_ocsp_rejects_bad_answers(pki: Pki, case: str) -> None:
    def post(url: str, body: bytes) -> bytes:
        if case == "wrong nonce":
            return _answer(pki, body, ocsp.OCSPCertStatus.GOOD, nonce=b"x" * 16)
        if case == "foreign signer":  # a responder certificate the CA did not issue
            return _answer(pki, body, ocsp.OCSPCertStatus.GOOD, responder=_responder(pki, issued=False))
        if case == "stale":
            return _answer(pki, body, ocsp.OCSPCertStatus.GOOD, this_update=NOW - timedelta(days=2))
        if case == "future":
            return _answer(pki, body, ocsp.OCSPCertStatus.GOOD, this_update=NOW + timedelta(days=2))
        return _answer(pki, body, ocsp.OCSPCertStatus.GOOD, responder=_responder(pki, eku=False))

    with pytest.raises(OcspError):
        po.ocsp_check_cert(pki.user, pki.ca, post=post, now=lambda: NOW)


def test_ocsp_answer_for_another_certificate_is_refused(pki: Pki) -> None:
    other = po.build_ocsp_request(5, pki.ca, b"n" * 16)
    with pytest.raises(OcspError, match="does not cover"):
        po.check_ocsp_response(_answer(pki, other, ocsp.OCSPCertStatus.GOOD, echo=False), 6, pki.ca, now=NOW)


def test_ocsp_error_statuses_and_garbage(pki: Pki) -> None:
    unauthorized = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    with pytest.raises(OcspError, match="unauthorized"):
        po.check_ocsp_response(unauthorized.public_bytes(serialization.Encoding.DER), 1, pki.ca, now=NOW)
    with pytest.raises(OcspError, match="malformed"):
        po.check_ocsp_response(b"\x30\x00", 1, pki.ca, now=NOW)
    bare = (x509.CertificateBuilder().subject_name(_name("x")).issuer_name(pki.ca.subject)
            .public_key(pki.user_key.public_key()).serial_number(3).not_valid_before(NOW)
            .not_valid_after(NOW + timedelta(days=1)).sign(pki.ca_key, hashes.SHA256()))
    with pytest.raises(OcspError, match="names no OCSP responder"):
        po.ocsp_check_cert(bare, pki.ca, post=lambda u, b: b"")
    with pytest.raises(OcspError, match="not issued"):
        po.ocsp_check_cert(pki.user, pki.user, post=lambda u, b: b"")


@pytest.fixture
def responder(pki: Pki) -> Iterator[str]:
    """A local HTTP OCSP responder, to exercise the urllib POST."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert self.headers["Content-Type"] == "application/ocsp-request"
            answer = _answer(pki, body, ocsp.OCSPCertStatus.GOOD)
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ocsp"
    finally:
        server.shutdown()
        server.server_close()


def test_ocsp_over_http(pki: Pki, responder: str) -> None:
    result = po.ocsp_check_cert(pki.user, pki.ca, url=responder, now=lambda: NOW)
    assert result.status is po.CertStatus.GOOD


def test_urllib_post_errors() -> None:
    with pytest.raises(OcspError, match="not an HTTP"):
        po.urllib_post("file:///etc/passwd", b"")
    with pytest.raises(OcspError, match="cannot reach"):
        po.urllib_post("http://127.0.0.1:9/", b"x", timeout=2)
