"""The OCSP responder (RFC 6960 / RFC 5019): statuses, nonces, pre-produced responses and their
invalidation, unknown issuers, HTTP GET/POST with caching headers, and the `openssl ocsp` client."""

from __future__ import annotations

import base64
import datetime
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import ocsp as aocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.ocsp import OcspResponder, ResponseStatus
from neweid.pki.ca.ocsp_http import OcspHttpServer, serve_in_thread
from neweid.pki.ca.profiles import CertificateUsage
from neweid.pki.ca.registry import RevocationReason
from neweid.pki.ca.validity import TAIPEI, CardValidity, add_years
from neweid.pki.keystore import FileKeyStore
from tests.conftest import require_system_part
from tests.test_ca_support import (
    CARD,
    OPENSSL,
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


@pytest.fixture
def responder(ca: CaDirectory) -> OcspResponder:
    return ca.ocsp_responder()


def issue(ca: CaDirectory, index: int = 0) -> x509.Certificate:
    usage = CertificateUsage.SIGN if index % 2 == 0 else CertificateUsage.ENCRYPT
    key = ec_key(index) if index < 2 else rsa_key(index - 2)
    return ca.ra.operator("t").issue(csr_for(key), SUBSCRIBER, usage, CARD).certificate


def request(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm or hashes.SHA1())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def parse(ca: CaDirectory, der: bytes) -> ocsp.OCSPResponse:
    response = ocsp.load_der_ocsp_response(der)
    if response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL:
        responder_cert = response.certificates[0]
        assert responder_cert == ca.hierarchy.ocsp
        key = responder_cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA512()))
        assert response.responder_key_hash == x509.SubjectKeyIdentifier.from_public_key(key).digest
    return response


def test_good_suspended_resumed_revoked(ca: CaDirectory, responder: OcspResponder, clock: Clock) -> None:
    cert = issue(ca)
    issuer = ca.hierarchy.issuing
    good = parse(ca, responder.respond(request(cert, issuer), clock.now))
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert good.serial_number == cert.serial_number
    assert good.this_update_utc == clock.now and good.produced_at_utc == clock.now
    assert good.next_update_utc == clock.now + datetime.timedelta(minutes=5)
    clock.advance(seconds=30)
    ca.ra.operator("t").suspend(cert.serial_number)
    held = parse(ca, responder.respond(request(cert, issuer), clock.now))
    assert held.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert held.revocation_reason is x509.ReasonFlags.certificate_hold
    assert held.revocation_time_utc == clock.now
    ca.ra.operator("t").resume(cert.serial_number)
    again = parse(ca, responder.respond(request(cert, issuer, algorithm=hashes.SHA256()), clock.now))
    assert again.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert again.hash_algorithm.name == "sha256"
    ca.ra.operator("t").revoke(cert.serial_number, RevocationReason.KEY_COMPROMISE)
    gone = parse(ca, responder.respond(request(cert, issuer), clock.now))
    assert gone.revocation_reason is x509.ReasonFlags.key_compromise


def test_unknown_serial_and_unknown_issuer(
    ca: CaDirectory, responder: OcspResponder, clock: Clock, tmp_path: Path
) -> None:
    cert = issue(ca)
    other = make_ca(tmp_path / "other", clock)
    foreign = issue(other)
    answer = responder.answer(request(foreign, other.hierarchy.issuing), clock.now)
    assert answer.status is ResponseStatus.UNAUTHORIZED
    assert ocsp.load_der_ocsp_response(answer.der).response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
    # same issuer name and key hash, serial never issued → unknown
    never = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(cert.public_key())
        .serial_number(12345)
        .not_valid_before(clock.now)
        .not_valid_after(clock.now + datetime.timedelta(days=1))
        .sign(ec_key(7), hashes.SHA256())
    )
    unknown = parse(ca, responder.respond(request(never, ca.hierarchy.issuing), clock.now))
    assert unknown.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    other.close()


def test_multiple_certificates_in_one_request(
    ca: CaDirectory, responder: OcspResponder, clock: Clock, tmp_path: Path
) -> None:
    a, b = issue(ca, 0), issue(ca, 1)
    ca.ra.operator("t").suspend(b.serial_number)
    other = make_ca(tmp_path / "other", clock)
    foreign = issue(other)
    ids = [
        aocsp.OCSPRequest.load(request(c, i))["tbs_request"]["request_list"][0]
        for c, i in ((a, ca.hierarchy.issuing), (b, ca.hierarchy.issuing), (foreign, other.hierarchy.issuing))
    ]
    multi = aocsp.OCSPRequest({"tbs_request": {"request_list": ids}}).dump()
    parsed = aocsp.OCSPResponse.load(responder.respond(multi, clock.now))
    statuses = [r["cert_status"].name for r in parsed.basic_ocsp_response["tbs_response_data"]["responses"]]
    assert statuses == ["good", "revoked", "unknown"]
    other.close()


def test_nonce_is_echoed_and_checked(ca: CaDirectory, responder: OcspResponder, clock: Clock) -> None:
    cert = issue(ca)
    nonce = bytes(range(16))
    response = parse(ca, responder.respond(request(cert, ca.hierarchy.issuing, nonce=nonce), clock.now))
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    second = responder.respond(request(cert, ca.hierarchy.issuing, nonce=b"\x01" * 32), clock.now)
    assert parse(ca, second).extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"\x01" * 32
    too_long = responder.answer(request(cert, ca.hierarchy.issuing, nonce=b"\x01" * 33), clock.now)
    assert too_long.status is ResponseStatus.MALFORMED_REQUEST
    assert not responder.answer(request(cert, ca.hierarchy.issuing, nonce=nonce), clock.now).cacheable


@pytest.mark.parametrize("data", [b"", b"\x30\x00", b"not der", b"\x30\x03\x30\x01\x00"])
def test_malformed_requests(responder: OcspResponder, clock: Clock, data: bytes) -> None:
    answer = responder.answer(data, clock.now)
    assert answer.status is ResponseStatus.MALFORMED_REQUEST
    assert aocsp.OCSPResponse.load(answer.der)["response_status"].native == "malformed_request"


def test_pre_produced_responses_and_invalidation(
    ca: CaDirectory, responder: OcspResponder, clock: Clock
) -> None:
    cert = issue(ca)
    req = request(cert, ca.hierarchy.issuing)
    first = responder.answer(req, clock.now)
    assert first.cacheable and first.max_age(clock.now) == 300
    clock.advance(seconds=60)
    assert responder.respond(req, clock.now) == first.der  # served from the cache
    # a change made by another process (no in-process listener) is seen through the change sequence
    with CaDirectory.open(
        ca.hierarchy.directory, FileKeyStore(ca.hierarchy.directory / "keys", PASSPHRASE), clock=clock
    ) as other_process:
        other_process.ra.operator("t").suspend(cert.serial_number)
    changed = parse(ca, responder.respond(req, clock.now))
    assert changed.certificate_status is ocsp.OCSPCertStatus.REVOKED
    ca.ra.operator("t").resume(cert.serial_number)  # in-process: the listener drops the entry
    resumed = responder.respond(req, clock.now)
    assert parse(ca, resumed).certificate_status is ocsp.OCSPCertStatus.GOOD
    clock.advance(seconds=151)  # past half the validity: re-produced
    refreshed = responder.answer(req, clock.now)
    assert refreshed.der != resumed and refreshed.this_update == clock.now


def test_expired_responder_certificate_says_try_later(
    ca: CaDirectory, responder: OcspResponder, clock: Clock
) -> None:
    cert = issue(ca)
    answer = responder.answer(request(cert, ca.hierarchy.issuing), clock.now + datetime.timedelta(days=91))
    assert answer.status is ResponseStatus.TRY_LATER


@pytest.fixture
def server(ca: CaDirectory, responder: OcspResponder, clock: Clock) -> Iterator[OcspHttpServer]:
    http = OcspHttpServer(("127.0.0.1", 0), responder, publish_dir=ca.hierarchy.publish_dir, clock=clock)
    serve_in_thread(http)
    yield http
    http.shutdown()
    http.server_close()


def fetch(url: str, data: bytes | None = None, content_type: str = "application/ocsp-request"):  # type: ignore[no-untyped-def]
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_http_post_get_and_published_files(ca: CaDirectory, server: OcspHttpServer, clock: Clock) -> None:
    cert = issue(ca)
    req = request(cert, ca.hierarchy.issuing)
    status, headers, body = fetch(server.url, req)
    assert status == 200 and headers["Content-Type"] == "application/ocsp-response"
    assert parse(ca, body).certificate_status is ocsp.OCSPCertStatus.GOOD
    encoded = urllib.parse.quote(base64.b64encode(req).decode("ascii"), safe="")
    status, headers, body_get = fetch(server.url + encoded)
    assert status == 200 and body_get == body
    assert headers["Cache-Control"] == "max-age=300, public, no-transform, must-revalidate"
    assert "ETag" in headers and headers["Expires"].endswith("GMT") and "Last-Modified" in headers
    nonce_req = request(cert, ca.hierarchy.issuing, nonce=b"n" * 16)
    status, headers, _ = fetch(server.url, nonce_req)
    assert headers["Cache-Control"] == "no-cache, no-store"
    assert fetch(server.url, req, "text/plain")[0] == 415
    assert fetch(server.url, b"\x30" * 20000)[0] == 413
    bad = fetch(server.url + "!!!notbase64")
    assert (
        bad[0] == 200
        and ocsp.load_der_ocsp_response(bad[2]).response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    status, headers, issuing = fetch(server.url + "ca/issuing-ca.crt")
    assert status == 200 and x509.load_der_x509_certificate(issuing) == ca.hierarchy.issuing
    status, _, crl = fetch(server.url + "crl/full.crl")
    assert status == 200 and x509.load_der_x509_crl(crl).is_signature_valid(ca.hierarchy.issuing.public_key())
    status, _, body = fetch(server.url + "crl/..%2Fkeys%2Fcitizen-ocsp-responder.key.pem")
    assert b"PRIVATE KEY" not in body  # no way out of the publication folder
    assert fetch(server.url + "ca/missing.crt")[0] == 404


@pytest.fixture
def live_ca(tmp_path: Path) -> Iterator[CaDirectory]:
    """A CA on the real clock: the openssl client checks thisUpdate/nextUpdate against its own time."""
    opened = make_ca(tmp_path / "live", Clock(datetime.datetime.now(datetime.UTC).replace(microsecond=0)))
    opened.ca._clock = lambda: datetime.datetime.now(datetime.UTC)
    yield opened
    opened.close()


@pytest.fixture
def ocsp_live_server(live_ca: CaDirectory) -> Iterator[OcspHttpServer]:
    http = OcspHttpServer(
        ("127.0.0.1", 0), live_ca.ocsp_responder(), publish_dir=live_ca.hierarchy.publish_dir
    )
    serve_in_thread(http)
    yield http
    http.shutdown()
    http.server_close()


def live_issue(ca: CaDirectory) -> x509.Certificate:
    today = datetime.datetime.now(TAIPEI).date()
    card = CardValidity(today, add_years(today, 10))
    return ca.ra.operator("t").issue(csr_for(ec_key(0)), SUBSCRIBER, CertificateUsage.SIGN, card).certificate


def _openssl_ocsp(
    ca: CaDirectory, server: OcspHttpServer, cert: x509.Certificate, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    cert_file = tmp_path / f"{cert.serial_number:x}.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    chain = tmp_path / "chain.pem"
    chain.write_bytes(ca.hierarchy.chain_pem())
    return subprocess.run(
        [
            str(OPENSSL),
            "ocsp",
            "-issuer",
            str(ca.hierarchy.directory / "issuing-ca.pem"),
            "-cert",
            str(cert_file),
            "-url",
            server.url,
            "-CAfile",
            str(chain),
            "-resp_text",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_openssl_ocsp_client(live_ca: CaDirectory, ocsp_live_server: OcspHttpServer, tmp_path: Path) -> None:
    require_system_part(OPENSSL is not None, "the openssl command")
    ca, server = live_ca, ocsp_live_server
    cert = live_issue(ca)
    name = f"{cert.serial_number:x}.pem"

    def check(expect: str) -> str:
        result = _openssl_ocsp(ca, server, cert, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Response verify OK" in result.stderr
        assert re.search(rf"{re.escape(name)}: {expect}\b", result.stdout), result.stdout
        assert "OCSP Nonce" in result.stdout and "WARNING: no nonce" not in result.stderr + result.stdout
        return result.stdout

    check("good")
    ca.ra.operator("t").suspend(cert.serial_number)
    assert "Reason: certificateHold" in check("revoked")
    ca.ra.operator("t").resume(cert.serial_number)
    check("good")
    ca.ra.operator("t").revoke(cert.serial_number, RevocationReason.KEY_COMPROMISE)
    assert "Reason: keyCompromise" in check("revoked")


def test_openssl_ocsp_unknown_issuer(ocsp_live_server: OcspHttpServer, tmp_path: Path) -> None:
    require_system_part(OPENSSL is not None, "the openssl command")
    server = ocsp_live_server
    other = make_ca(tmp_path / "other", Clock(datetime.datetime.now(datetime.UTC).replace(microsecond=0)))
    foreign = live_issue(other)
    cert_file = tmp_path / "foreign.pem"
    cert_file.write_bytes(foreign.public_bytes(serialization.Encoding.PEM))
    result = subprocess.run(
        [
            str(OPENSSL),
            "ocsp",
            "-issuer",
            str(other.hierarchy.directory / "issuing-ca.pem"),
            "-cert",
            str(cert_file),
            "-url",
            server.url,
            "-noverify",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "unauthorized" in (result.stdout + result.stderr).lower()
    other.close()
