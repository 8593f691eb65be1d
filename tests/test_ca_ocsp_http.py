"""The asyncio OCSP HTTP server (keep-alive, pipelining, limits, refusals), the hand-encoded responses
(byte-identical to the asn1crypto construction they replace) and `ocsp-serve --workers`."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import core
from asn1crypto import ocsp as aocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.ocsp import OcspResponder
from neweid.pki.ca.ocsp_http import MAX_HEADER, OcspHttpServer, serve_in_thread
from neweid.pki.ca.registry import RevocationReason
from tests.test_ca_ocsp import issue, request
from tests.test_ca_support import PASSPHRASE, Clock, make_ca


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ca(tmp_path: Path, clock: Clock) -> Iterator[CaDirectory]:
    opened = make_ca(tmp_path / "ca", clock)
    yield opened
    opened.close()


@pytest.fixture
def server(ca: CaDirectory, clock: Clock) -> Iterator[OcspHttpServer]:
    http = OcspHttpServer(("127.0.0.1", 0), ca.ocsp_responder(), publish_dir=ca.hierarchy.publish_dir,
                          clock=clock)
    serve_in_thread(http)
    yield http
    http.shutdown()
    http.server_close()


def raw(server: OcspHttpServer, data: bytes) -> bytes:
    """Send ``data``, read until the server closes the connection."""
    with socket.create_connection(server.server_address, timeout=10) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(der: bytes) -> str:
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    return response.certificate_status.name


def test_keep_alive_serves_several_requests_on_one_connection(
    ca: CaDirectory, server: OcspHttpServer
) -> None:
    cert = issue(ca)
    conn = http.client.HTTPConnection(*server.server_address, timeout=10)
    headers = {"Content-Type": "application/ocsp-request"}
    conn.request("POST", "/", request(cert, ca.hierarchy.issuing), headers)
    first = conn.getresponse()
    assert first.status == 200 and first.getheader("Connection") is None
    assert status_of(first.read()) == "GOOD"
    sock = conn.sock
    conn.request("POST", "/", request(cert, ca.hierarchy.issuing, nonce=b"k" * 8), headers)
    second = conn.getresponse()
    assert second.getheader("Cache-Control") == "no-cache, no-store" and status_of(second.read()) == "GOOD"
    conn.request("GET", "/ca/issuing-ca.crt")
    third = conn.getresponse()
    assert x509.load_der_x509_certificate(third.read()) == ca.hierarchy.issuing
    assert conn.sock is sock  # no reconnection happened
    conn.close()


def test_pipelined_requests_are_answered_in_order(ca: CaDirectory, server: OcspHttpServer) -> None:
    good, held = issue(ca, 0), issue(ca, 1)
    ca.ra.operator("t").suspend(held.serial_number)
    bodies = [request(good, ca.hierarchy.issuing), request(held, ca.hierarchy.issuing)]
    posts = b"".join(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n"
        b"Content-Length: %d\r\n\r\n%s"
        % (len(body), body) for body in bodies
    )
    data = raw(server, posts + b"GET /crl/full.crl HTTP/1.1\r\nConnection: close\r\n\r\n")
    statuses = []
    rest = data
    for index in range(3):
        head, _, rest = rest.partition(b"\r\n\r\n")
        length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
                     .split(b":")[1])
        body, rest = rest[:length], rest[length:]
        statuses.append(head.split(b"\r\n")[0])
        if index < 2:
            statuses.append(status_of(body).encode())
        else:
            assert x509.load_der_x509_crl(body).issuer == ca.hierarchy.issuing.subject
            assert b"Connection: close" in head
    assert statuses == [b"HTTP/1.1 200 OK", b"GOOD", b"HTTP/1.1 200 OK", b"REVOKED", b"HTTP/1.1 200 OK"]
    assert rest == b""


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"POST / HTTP/1.1\r\nContent-Type: application/ocsp-request\r\n\r\n", b"411"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"411"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * (MAX_HEADER + 10), b"431"),
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / SPDY/3\r\n\r\n", b"400"),
        (b"PUT / HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", b"501"),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", b"404"),
        (b"GET /ca/missing.crt HTTP/1.0\r\n\r\n", b"404"),
        (b"POST / HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + b"\x30" * 20000, b"413"),
    ],
)
def test_refusals(server: OcspHttpServer, data: bytes, status: bytes) -> None:
    answer = raw(server, data)  # returns only because the server closed the connection
    assert answer.split(b"\r\n")[0].split(b" ")[1] == status


def test_http10_closes_and_head_has_no_body(ca: CaDirectory, server: OcspHttpServer) -> None:
    answer = raw(server, b"HEAD /ca/issuing-ca.crt HTTP/1.0\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head and body == b""
    size = len(ca.hierarchy.issuing.public_bytes(serialization.Encoding.DER))
    assert f"Content-Length: {size}".encode() in head
    # HTTP/1.0 keep-alive (ab -k): the server must say so, or the client waits for the close
    both = raw(server, b"HEAD /ca/issuing-ca.crt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                       b"HEAD /ca/issuing-ca.crt HTTP/1.0\r\n\r\n")
    first, second, rest = both.split(b"\r\n\r\n")
    assert b"Connection: keep-alive" in first and b"Connection: close" in second and rest == b""


# -- the hand-encoded response is the one asn1crypto built before ------------------------------------------


class _FixedSigner:
    """Deterministic signatures, so two constructions can be compared byte for byte."""

    def __init__(self, algorithm: Any) -> None:
        self.algorithm = algorithm

    def sign(self, data: bytes) -> bytes:
        return b"\x30\x06\x02\x01\x01\x02\x01\x02"


def _reference(responder: OcspResponder, request_der: bytes, ca: CaDirectory, clock: Clock) -> bytes:
    """The response as asn1crypto builds it from the request (the construction the encoder replaced)."""
    tbs_request = aocsp.OCSPRequest.load(request_der)["tbs_request"]
    now, next_update = clock.now, clock.now + responder._validity
    singles = []
    for item in tbs_request["request_list"]:
        cert_id = item["req_cert"]
        entry = ca.registry.status_of(int(cert_id["serial_number"].native))
        assert entry is not None
        if entry.status.name == "GOOD":
            status = aocsp.CertStatus(name="good", value=core.Null())
        else:
            info: dict[str, Any] = {"revocation_time": entry.revoked_at}
            if entry.reason is not None and entry.reason is not RevocationReason.UNSPECIFIED:
                info["revocation_reason"] = entry.reason.name.lower()
            status = aocsp.CertStatus(name="revoked", value=aocsp.RevokedInfo(info))
        singles.append({"cert_id": cert_id, "cert_status": status, "this_update": now,
                        "next_update": next_update})
    data: dict[str, Any] = {"version": "v1", "responder_id": aocsp.ResponderId(
        name="by_key", value=responder._responder_key_hash), "produced_at": now, "responses": singles}
    extensions = tbs_request["request_extensions"]
    if extensions.native is not None:
        data["response_extensions"] = [aocsp.ResponseDataExtension.load(e.dump()) for e in extensions]
    tbs = aocsp.ResponseData(data)
    basic = aocsp.BasicOCSPResponse({
        "tbs_response_data": tbs, "signature_algorithm": {"algorithm": responder._signer.algorithm.value},
        "signature": responder._signer.sign(tbs.dump()), "certs": [responder._responder_asn1]})
    return bytes(aocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
        "response_type": "basic_ocsp_response", "response": basic}}).dump())


@pytest.mark.parametrize("nonce", [None, b"\x00", bytes(range(32))])
@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.SHA256(), hashes.SHA512()])
def test_encoding_matches_asn1crypto(ca: CaDirectory, clock: Clock, nonce: bytes | None,
                                     algorithm: hashes.HashAlgorithm) -> None:
    h = ca.hierarchy
    responder = OcspResponder(h.issuing, h.ocsp, _FixedSigner(h.ocsp_signer.algorithm),  # type: ignore[arg-type]
                              ca.registry)
    good, held, revoked, plain = (issue(ca, i) for i in range(4))
    operator = ca.ra.operator("t")
    operator.suspend(held.serial_number)
    operator.revoke(revoked.serial_number, RevocationReason.KEY_COMPROMISE)
    operator.revoke(plain.serial_number, RevocationReason.UNSPECIFIED)
    for cert in (good, held, revoked, plain):
        req = request(cert, h.issuing, nonce=nonce, algorithm=algorithm)
        assert responder.respond(req, clock.now) == _reference(responder, req, ca, clock)


# -- ocsp-serve --workers ----------------------------------------------------------------------------------


def test_ocsp_serve_with_workers(ca: CaDirectory, tmp_path: Path) -> None:
    cert = issue(ca)
    req = request(cert, ca.hierarchy.issuing)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "NEWEID_KEYSTORE_PASSPHRASE": PASSPHRASE.decode()}
    server = subprocess.Popen(
        [sys.executable, "-c", "from neweid.cli.ca import app; app()", "ocsp-serve", "--dir",
         str(ca.hierarchy.directory), "--port", str(port), "--workers", "2"],
        env=env, stderr=subprocess.PIPE,
    )
    try:
        answers = []
        for _ in range(200):
            try:
                post = urllib.request.Request(f"http://127.0.0.1:{port}/", data=req,
                                              headers={"Content-Type": "application/ocsp-request"})
                with urllib.request.urlopen(post, timeout=10) as response:
                    answers.append(response.read())
                if len(answers) == 6:
                    break
            except OSError:
                time.sleep(0.05)
        # the CA's own clock is fixed in the past: each answer still names the certificate correctly
        assert len(answers) == 6
        for der in answers:
            assert ocsp.load_der_ocsp_response(der).serial_number == cert.serial_number
    finally:
        server.terminate()
        assert server.wait(timeout=10) is not None
        assert server.stderr is not None
        assert f"OCSP responder at http://127.0.0.1:{port}/" in server.stderr.read().decode()
        server.stderr.close()
