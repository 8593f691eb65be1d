"""HTTP mounting of the OCSP responder and the CA's publication point (stdlib ``http.server``).

* ``POST /`` with ``Content-Type: application/ocsp-request`` (RFC 6960 App. A.1);
* ``GET /<url-encoded base64 of the DER request>`` (RFC 6960 A.1, RFC 5019 §5) with
  ``Cache-Control: max-age=<seconds to nextUpdate>, public, no-transform, must-revalidate``,
  ``Last-Modified`` (thisUpdate), ``Expires`` (nextUpdate) and an ``ETag`` (RFC 5019 §6.2) for responses
  without a nonce; responses carrying a nonce are ``no-cache``;
* ``GET /ca/<file>.crt`` and ``GET /crl/<file>.crl`` serve the DER files of the CA directory's
  ``publish/`` folder — the caIssuers and CRL distribution point URLs of the certificates.

Requests are limited to 16 KiB. Access logging goes to the ``logging`` module at DEBUG level.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import email.utils
import hashlib
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from neweid.pki.ca.ocsp import OcspAnswer, OcspResponder

__all__ = ["MAX_REQUEST", "OcspHttpServer", "serve_in_thread"]

_log = logging.getLogger(__name__)

MAX_REQUEST = 16 * 1024
_OCSP_REQUEST = "application/ocsp-request"
_OCSP_RESPONSE = "application/ocsp-response"
_PUBLISHED = re.compile(r"/(ca/[A-Za-z0-9._-]+\.crt|crl/[A-Za-z0-9._-]+\.crl)")
_TYPES = {".crt": "application/pkix-cert", ".crl": "application/pkix-crl"}


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class OcspHttpServer(ThreadingHTTPServer):
    """A threading HTTP server answering OCSP and serving ``publish_dir``."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        responder: OcspResponder,
        *,
        publish_dir: Path | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
    ) -> None:
        self.responder = responder
        self.publish_dir = publish_dir
        self.clock = clock
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


class _Handler(BaseHTTPRequestHandler):
    server: OcspHttpServer
    protocol_version = "HTTP/1.1"
    server_version = "neweid-ocsp/1"

    def log_message(self, format: str, *args: object) -> None:
        _log.debug("%s " + format, self.address_string(), *args)

    def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_answer(self, answer: OcspAnswer, now: datetime.datetime, *, get: bool) -> None:
        headers: dict[str, str] = {}
        if answer.cacheable and answer.this_update is not None and answer.next_update is not None:
            headers["Cache-Control"] = f"max-age={answer.max_age(now)}, public, no-transform, must-revalidate"
            headers["Last-Modified"] = email.utils.format_datetime(answer.this_update, usegmt=True)
            headers["Expires"] = email.utils.format_datetime(answer.next_update, usegmt=True)
            if get:
                headers["ETag"] = '"' + hashlib.sha256(answer.der).hexdigest()[:32] + '"'
        else:
            headers["Cache-Control"] = "no-cache, no-store"
        self._send(HTTPStatus.OK, answer.der, _OCSP_RESPONSE, headers)

    def _plain(self, code: HTTPStatus, message: str) -> None:
        self._send(code, (message + "\n").encode("ascii"), "text/plain; charset=us-ascii")

    def do_POST(self) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            length = int(self.headers.get("Content-Length") or "-1")
        except ValueError:
            length = -1
        if length < 0:
            self._plain(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return
        if length > MAX_REQUEST:
            self.close_connection = True
            self._plain(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
            return
        body = self.rfile.read(length)
        if content_type != _OCSP_REQUEST:
            self._plain(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"expected {_OCSP_REQUEST}")
            return
        now = self.server.clock()
        self._send_answer(self.server.responder.answer(body, now), now, get=False)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        published = _PUBLISHED.fullmatch(path)
        if published is not None:
            self._serve_file(published.group(1))
            return
        encoded = urllib.parse.unquote(path.lstrip("/"))
        if not encoded or len(encoded) > MAX_REQUEST * 2:
            self._plain(HTTPStatus.NOT_FOUND, "not found")
            return
        try:
            padded = encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4)
            request = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            request = b""
        now = self.server.clock()
        self._send_answer(self.server.responder.answer(request, now), now, get=True)

    def _serve_file(self, relative: str) -> None:
        directory = self.server.publish_dir
        if directory is None:
            self._plain(HTTPStatus.NOT_FOUND, "not found")
            return
        try:
            data = (directory / relative).read_bytes()
        except OSError:
            self._plain(HTTPStatus.NOT_FOUND, "not found")
            return
        self._send(HTTPStatus.OK, data, _TYPES[relative[-4:]], {"Cache-Control": "max-age=300"})


def serve_in_thread(server: OcspHttpServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread (tests, embedding); stop with ``server.shutdown()``."""
    thread = threading.Thread(target=server.serve_forever, name="ocsp-http", daemon=True)
    thread.start()
    return thread
