"""HTTP mounting of the OCSP responder and the CA's publication point: a lean asyncio HTTP/1.1 server.

* ``POST /`` with ``Content-Type: application/ocsp-request`` and a ``Content-Length`` (RFC 6960 App. A.1);
* ``GET /<url-encoded base64 of the DER request>`` (RFC 6960 A.1, RFC 5019 §5) with
  ``Cache-Control: max-age=<seconds to nextUpdate>, public, no-transform, must-revalidate``,
  ``Last-Modified`` (thisUpdate), ``Expires`` (nextUpdate) and an ``ETag`` (RFC 5019 §6.2) for responses
  without a nonce; responses carrying a nonce are ``no-cache``;
* ``GET /ca/<file>.crt`` and ``GET /crl/<file>.crl`` serve the DER files of the CA directory's
  ``publish/`` folder — the caIssuers and CRL distribution point URLs of the certificates.

Only what OCSP needs is parsed: the request line, ``Content-Length``, ``Content-Type`` and ``Connection``
(no chunked bodies: ``411``). Connections are kept alive (HTTP/1.1 default, or HTTP/1.0 with
``Connection: keep-alive``) and pipelined requests are answered in order. Headers are limited to 8 KiB and
bodies to 16 KiB; a connection idle for :data:`IDLE_TIMEOUT` seconds is closed. The responder runs in the
event loop thread (a response is a few hundred microseconds of CPU; files are read in a thread).

Several processes may serve one listening socket (``sock=``, e.g. inherited across ``fork``): each has its
own responder, and the registry's change sequence keeps their pre-produced responses correct.
Access logging goes to the ``logging`` module at DEBUG level.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import email.utils
import hashlib
import logging
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from neweid.pki.ca.ocsp import OcspAnswer, OcspResponder

__all__ = ["IDLE_TIMEOUT", "MAX_HEADER", "MAX_REQUEST", "OcspHttpServer", "listen", "serve_in_thread"]

_log = logging.getLogger(__name__)

MAX_REQUEST = 16 * 1024
MAX_HEADER = 8 * 1024
IDLE_TIMEOUT = 30.0
_DRAIN_LIMIT = 1024 * 1024  # a refused body up to this size is read and dropped so the client sees the error
_OCSP_REQUEST = "application/ocsp-request"
_OCSP_RESPONSE = b"application/ocsp-response"
_PLAIN = b"text/plain; charset=us-ascii"
_PUBLISHED = re.compile(r"/(ca/[A-Za-z0-9._-]+\.crt|crl/[A-Za-z0-9._-]+\.crl)")
_TYPES = {".crt": b"application/pkix-cert", ".crl": b"application/pkix-crl"}
_SERVER = b"Server: neweid-ocsp/2\r\n"
_KEEP_ALIVE = b"Connection: keep-alive\r\n"
_NO_CACHE = b"Cache-Control: no-cache, no-store\r\n"
_REASONS = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class _DateHeader:
    """The ``Date`` header, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def get(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._value = b"Date: " + email.utils.formatdate(second, usegmt=True).encode("ascii") + b"\r\n"
        return self._value


def listen(address: tuple[str, int], *, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket (``SO_REUSEADDR``); pass it to several servers or processes as ``sock``."""
    return socket.create_server(address, backlog=backlog, reuse_port=False)


class OcspHttpServer:
    """An asyncio HTTP/1.1 server answering OCSP and serving ``publish_dir``.

    The API follows ``socketserver``: the socket is bound by the constructor (``OSError`` if it cannot be),
    :meth:`serve_forever` blocks, :meth:`shutdown` (from another thread) makes it return,
    :meth:`server_close` releases the socket.
    """

    def __init__(
        self,
        address: tuple[str, int],
        responder: OcspResponder,
        *,
        publish_dir: Path | None = None,
        clock: Callable[[], datetime.datetime] = _utc_now,
        sock: socket.socket | None = None,
    ) -> None:
        self.responder = responder
        self.publish_dir = publish_dir
        self.clock = clock
        self.socket = sock if sock is not None else listen(address)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self.date = _DateHeader()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{host!s}:{port}/"

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (or an interrupt)."""
        self._stopped.clear()
        try:
            asyncio.run(self._serve())
        finally:
            self._stopped.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(lambda: _HttpProtocol(self), sock=self.socket)
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            server.close()  # also closes self.socket: asyncio owns it now
            self._started.clear()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it has returned (call from another thread)."""
        loop, stop = self._loop, self._stop
        if loop is None or stop is None or not self._started.is_set():
            return
        loop.call_soon_threadsafe(stop.set)
        self._stopped.wait()

    def server_close(self) -> None:
        self.socket.close()

    # -- request handling (event loop thread) -------------------------------------------------------------

    def ocsp(self, request: bytes, *, get: bool) -> tuple[int, bytes, bytes, bytes]:
        now = self.clock()
        answer = self.responder.answer(request, now)
        return 200, answer.der, _OCSP_RESPONSE, _cache_headers(answer, now, get=get)

    def published(self, relative: str) -> tuple[int, bytes, bytes, bytes]:
        """Runs in a worker thread."""
        if self.publish_dir is None:
            return _not_found()
        try:
            data = (self.publish_dir / relative).read_bytes()
        except OSError:
            return _not_found()
        return 200, data, _TYPES[relative[-4:]], b"Cache-Control: max-age=300\r\n"


def _cache_headers(answer: OcspAnswer, now: datetime.datetime, *, get: bool) -> bytes:
    if not (answer.cacheable and answer.this_update is not None and answer.next_update is not None):
        return _NO_CACHE
    headers = [
        f"Cache-Control: max-age={answer.max_age(now)}, public, no-transform, must-revalidate\r\n",
        "Last-Modified: " + email.utils.format_datetime(answer.this_update, usegmt=True) + "\r\n",
        "Expires: " + email.utils.format_datetime(answer.next_update, usegmt=True) + "\r\n",
    ]
    if get:
        headers.append('ETag: "' + hashlib.sha256(answer.der).hexdigest()[:32] + '"\r\n')
    return "".join(headers).encode("ascii")


def _plain(code: HTTPStatus, message: str) -> tuple[int, bytes, bytes, bytes]:
    return code.value, (message + "\n").encode("ascii"), _PLAIN, b""


def _not_found() -> tuple[int, bytes, bytes, bytes]:
    return _plain(HTTPStatus.NOT_FOUND, "not found")


def _decode_get(path: str) -> bytes:
    encoded = urllib.parse.unquote(path.lstrip("/"))
    try:
        padded = encoded.replace("-", "+").replace("_", "/") + "=" * (-len(encoded) % 4)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return b""


class _HttpProtocol(asyncio.Protocol):
    """One connection: parse requests from the buffer, answer them in order."""

    def __init__(self, server: OcspHttpServer) -> None:
        self._server = server
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False  # a file is being read: later (pipelined) requests wait
        self._closing = False
        self._drain = 0  # bytes of a refused body still to drop before closing
        self._timer: asyncio.TimerHandle | None = None
        self._peer = "-"
        self._http10 = False

    # -- asyncio callbacks --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) else "-"
        self._arm_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._drain:
            self._drain = max(0, self._drain - len(data))
            if not self._drain and self._transport is not None:
                self._transport.close()
            return
        if self._closing:
            return
        self._buffer += data
        if not self._busy:
            self._process()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    # -- internals --

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, self._idle)

    def _idle(self) -> None:
        if self._transport is not None and not self._busy:
            self._transport.close()

    def _process(self) -> None:
        while self._transport is not None and not self._busy and not self._closing and self._buffer:
            end = self._buffer.find(b"\r\n\r\n", 0, MAX_HEADER + 4)
            if end < 0:
                if len(self._buffer) > MAX_HEADER:
                    self._finish(*_plain(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers too large"),
                                 keep_alive=False)
                return
            if not self._one(end):
                return

    def _one(self, end: int) -> bool:
        """Handle the request whose headers end at ``end``; False if it needs more data or went async."""
        try:
            head = bytes(self._buffer[:end]).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            method, target, version = request_line.split(" ")
            if not version.startswith("HTTP/1."):
                raise ValueError(version)
        except ValueError:
            self._finish(*_plain(HTTPStatus.BAD_REQUEST, "bad request"), keep_alive=False)
            return False
        headers: dict[str, str] = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version != "HTTP/1.0" else "keep-alive" in connection
        self._http10 = version == "HTTP/1.0"  # an HTTP/1.0 client needs "Connection: keep-alive" to reuse
        length_text = headers.get("content-length")
        try:
            length = int(length_text) if length_text is not None else (-1 if method == "POST" else 0)
        except ValueError:
            length = -1
        if "transfer-encoding" in headers:
            length = -1
        if length < 0:
            self._buffer.clear()
            self._finish(*_plain(HTTPStatus.LENGTH_REQUIRED, "Content-Length required"), keep_alive=False)
            return False
        if length > MAX_REQUEST:
            available = len(self._buffer) - end - 4
            self._buffer.clear()
            self._finish(*_plain(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large"), keep_alive=False,
                         drain=length - available if length <= _DRAIN_LIMIT else 0)
            return False
        if len(self._buffer) < end + 4 + length:
            return False  # wait for the body
        body = bytes(self._buffer[end + 4:end + 4 + length])
        del self._buffer[:end + 4 + length]
        _log.debug("%s %s %s", self._peer, method, target[:80])
        head_only = method == "HEAD"
        if method == "POST":
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != _OCSP_REQUEST:
                self._finish(*_plain(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"expected {_OCSP_REQUEST}"),
                             keep_alive=keep_alive)
            else:
                self._finish(*self._server.ocsp(body, get=False), keep_alive=keep_alive)
            return True
        if method not in ("GET", "HEAD"):
            self._finish(*_plain(HTTPStatus.NOT_IMPLEMENTED, "unsupported method"), keep_alive=keep_alive)
            return True
        path = target.split("?", 1)[0]
        published = _PUBLISHED.fullmatch(path)
        if published is not None:
            self._busy = True
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(None, self._server.published, published.group(1))
            future.add_done_callback(lambda done: self._file_done(done, keep_alive, head_only))
            return False
        if not path.lstrip("/") or len(path) > MAX_REQUEST * 2:
            self._finish(*_not_found(), keep_alive=keep_alive, head_only=head_only)
            return True
        self._finish(*self._server.ocsp(_decode_get(path), get=True), keep_alive=keep_alive,
                     head_only=head_only)
        return True

    def _file_done(self, done: asyncio.Future[tuple[int, bytes, bytes, bytes]], keep_alive: bool,
                   head_only: bool) -> None:
        self._busy = False
        if done.cancelled() or done.exception() is not None:
            _log.error("serving a published file failed: %s", None if done.cancelled() else done.exception())
            self._finish(*_plain(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error"), keep_alive=False)
            return
        self._finish(*done.result(), keep_alive=keep_alive, head_only=head_only)
        self._process()

    def _finish(self, code: int, body: bytes, content_type: bytes, extra: bytes, *, keep_alive: bool,
                head_only: bool = False, drain: int = 0) -> None:
        transport = self._transport
        if transport is None:
            return
        head = b"".join((
            b"HTTP/1.1 %d %s\r\n" % (code, _REASONS.get(code, b"")),
            _SERVER,
            self._server.date.get(),
            b"Content-Type: ", content_type,
            b"\r\nContent-Length: %d\r\n" % len(body),
            extra,
            (_KEEP_ALIVE if self._http10 else b"") if keep_alive else b"Connection: close\r\n",
            b"\r\n",
        ))
        transport.write(head if head_only else head + body)
        if keep_alive:
            self._arm_timer()
            return
        self._closing = True
        if drain > 0:
            self._drain = drain  # closed once the refused body has arrived (or by the idle timer)
            self._arm_timer()
        else:
            transport.close()


def serve_in_thread(server: OcspHttpServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread (tests, embedding); stop with ``server.shutdown()``.

    Returns once the server accepts connections.
    """
    thread = threading.Thread(target=server.serve_forever, name="ocsp-http", daemon=True)
    thread.start()
    server._started.wait(timeout=10)
    return thread
