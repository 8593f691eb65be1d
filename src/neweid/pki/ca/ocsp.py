"""An RFC 6960 OCSP responder for the issuing CA, as a pure ``request → response`` class.

* Signs with a delegated responder certificate (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) through the key
  store; the responder certificate travels in the response (``certs``); ResponderID byKey.
* good / revoked (with reason) / unknown; a suspended certificate is *revoked* with reason
  certificateHold, and *good* again once resumed (RFC 6960 §2.2, RFC 5280 §5.3.1).
* A request whose CertIDs all name another issuer (or use a hash we do not support) is answered
  ``unauthorized`` (RFC 5019 §2.2.3: the responder is not authoritative for it); in a mixed request the
  foreign CertIDs get status ``unknown``.
* Nonces (RFC 8954) are echoed; a nonce of 0 or more than 32 octets is a malformedRequest.
* thisUpdate = the time of the answer, nextUpdate = thisUpdate + ``validity`` (5 minutes by default: a
  suspension is visible everywhere within minutes) — so responses are cacheable until nextUpdate.
* Requests for one certificate without a nonce are answered from **pre-produced responses**: cached per
  CertID, re-signed after half their validity, and dropped as soon as the certificate's status changes
  (the registry's per-certificate change sequence is compared on every request, so a change made by
  another process is seen at once; :meth:`OcspResponder.invalidate` does it eagerly in-process).
* Responses are DER-encoded by hand (ResponderID, algorithm and certificate encoded once, the CertIDs and
  nonce echoed as received): byte-identical to the asn1crypto construction, at a fifth of its cost.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

from asn1crypto import core
from asn1crypto import ocsp as aocsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from neweid.pki.ca import _der as der
from neweid.pki.ca.registry import CertificateStatus, RevocationReason, StatusEntry
from neweid.pki.errors import PkiError
from neweid.pki.keystore import KeyStoreSigner

__all__ = ["DEFAULT_VALIDITY", "OcspAnswer", "OcspResponder", "ResponseStatus", "StatusSource"]

_log = logging.getLogger(__name__)

DEFAULT_VALIDITY = datetime.timedelta(minutes=5)
MAX_NONCE = 32
_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


_GOOD = b"\x80\x00"  # good [0] IMPLICIT NULL
_UNKNOWN = b"\x82\x00"  # unknown [2] IMPLICIT NULL
_SUCCESSFUL = b"\x0a\x01\x00"  # OCSPResponseStatus successful
_BASIC_OID = b"\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x01"  # id-pkix-ocsp-basic


class ResponseStatus(IntEnum):
    """RFC 6960 OCSPResponseStatus."""

    SUCCESSFUL = 0
    MALFORMED_REQUEST = 1
    INTERNAL_ERROR = 2
    TRY_LATER = 3
    SIG_REQUIRED = 5
    UNAUTHORIZED = 6


class StatusSource(Protocol):
    """Where the responder reads certificate status (the registry)."""

    def status_of(self, serial: int) -> StatusEntry | None: ...


@dataclass(frozen=True)
class OcspAnswer:
    """A response and what HTTP needs to cache it."""

    der: bytes
    status: ResponseStatus
    this_update: datetime.datetime | None = None
    next_update: datetime.datetime | None = None
    cacheable: bool = False  # no nonce: shared caches may keep it until next_update

    def max_age(self, now: datetime.datetime) -> int:
        if self.next_update is None:
            return 0
        return max(0, int((self.next_update - now).total_seconds()))


_ERROR_NAMES = {
    ResponseStatus.MALFORMED_REQUEST: "malformed_request",
    ResponseStatus.INTERNAL_ERROR: "internal_error",
    ResponseStatus.TRY_LATER: "try_later",
    ResponseStatus.SIG_REQUIRED: "sign_required",
    ResponseStatus.UNAUTHORIZED: "unauthorized",
}


def _error(status: ResponseStatus) -> OcspAnswer:
    return OcspAnswer(aocsp.OCSPResponse({"response_status": _ERROR_NAMES[status]}).dump(), status)


@dataclass
class _Cached:
    der: bytes
    this_update: datetime.datetime
    next_update: datetime.datetime
    change_seq: int


class _BadRequestError(Exception):
    pass


class OcspResponder:
    """Answers OCSP requests about certificates issued by ``issuer``."""

    def __init__(
        self,
        issuer: x509.Certificate,
        responder: x509.Certificate,
        signer: KeyStoreSigner,
        source: StatusSource,
        *,
        validity: datetime.timedelta = DEFAULT_VALIDITY,
        cache_size: int = 200_000,
    ) -> None:
        self._source = source
        self._signer = signer
        self._validity = validity
        self._cache_size = cache_size
        self._cache: OrderedDict[bytes, _Cached] = OrderedDict()
        self._cache_lock = threading.Lock()
        issuer_asn1 = ax509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
        name_der = issuer_asn1["tbs_certificate"]["subject"].dump()
        key_bits = issuer_asn1["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]
        self._issuer_hashes = {
            name: (fn(name_der).digest(), fn(key_bits).digest()) for name, fn in _HASHES.items()
        }
        self._responder_asn1 = ax509.Certificate.load(responder.public_bytes(serialization.Encoding.DER))
        responder_key = self._responder_asn1["tbs_certificate"]["subject_public_key_info"]["public_key"]
        self._responder_key_hash = hashlib.sha1(responder_key.contents[1:]).digest()  # noqa: S324 - RFC 6960 ResponderID
        self._responder_not_after = responder.not_valid_after_utc
        # the constant parts of every response, encoded once
        self._responder_id = der.explicit(2, der.octet_string(self._responder_key_hash))  # byKey [2]
        self._algorithm_der = ax509.SignedDigestAlgorithm({"algorithm": signer.algorithm.value}).dump()
        self._certs_der = der.explicit(0, der.sequence(self._responder_asn1.dump()))

    # -- public API --------------------------------------------------------------------------------------

    def respond(self, request_der: bytes, now: datetime.datetime) -> bytes:
        """The DER OCSPResponse for ``request_der`` at ``now`` (never raises for bad input)."""
        return self.answer(request_der, now).der

    def invalidate(self, serial: int | None = None) -> None:
        """Drop pre-produced responses (for ``serial``, or all)."""
        with self._cache_lock:
            if serial is None:
                self._cache.clear()
                return
            suffix = _serial_der(serial)
            for key in [k for k in self._cache if k.endswith(suffix)]:
                del self._cache[key]

    def answer(self, request_der: bytes, now: datetime.datetime) -> OcspAnswer:
        moment = now.astimezone(datetime.UTC).replace(microsecond=0)
        try:
            cert_ids, nonce = self._parse(request_der)
        except _BadRequestError as exc:
            _log.debug("malformed OCSP request: %s", exc)
            return _error(ResponseStatus.MALFORMED_REQUEST)
        if moment >= self._responder_not_after:
            _log.error("the OCSP responder certificate has expired: renew it (neweid ca init renews it)")
            return _error(ResponseStatus.TRY_LATER)
        ours = [self._is_ours(cert_id) for cert_id in cert_ids]
        if not any(ours):
            return _error(ResponseStatus.UNAUTHORIZED)
        try:
            if nonce is None and len(cert_ids) == 1:
                return self._pre_produced(cert_ids[0], moment)
            entries = [self._source.status_of(int(c["serial_number"].native)) if mine else None
                       for c, mine in zip(cert_ids, ours, strict=True)]
            return self._produce(cert_ids, entries, moment, nonce)
        except (PkiError, OSError, ValueError) as exc:
            _log.error("OCSP response failed: %s", exc)
            return _error(ResponseStatus.INTERNAL_ERROR)

    # -- internals ---------------------------------------------------------------------------------------

    def _parse(self, der: bytes) -> tuple[list[Any], Any | None]:
        if not isinstance(der, bytes | bytearray) or not der:
            raise _BadRequestError("empty")
        try:
            request = aocsp.OCSPRequest.load(bytes(der), strict=True)
            tbs = request["tbs_request"]
            cert_ids = [item["req_cert"] for item in tbs["request_list"]]
            for cert_id in cert_ids:
                cert_id["hash_algorithm"]["algorithm"].native  # noqa: B018 - forces parsing
                int(cert_id["serial_number"].native)
                bytes(cert_id["issuer_name_hash"].native)
                bytes(cert_id["issuer_key_hash"].native)
            nonce = None
            extensions = tbs["request_extensions"]
            for extension in ([] if isinstance(extensions, core.Void) else extensions):  # no .native: slow
                if extension["extn_id"].dotted == "1.3.6.1.5.5.7.48.1.2":
                    value = extension["extn_value"].parsed if extension["extn_id"].native == "nonce" else None
                    raw = value.native if isinstance(value, core.OctetString) else None
                    if not isinstance(raw, bytes) or not 0 < len(raw) <= MAX_NONCE:
                        raise _BadRequestError("nonce must be 1-32 octets")
                    nonce = extension
        except _BadRequestError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _BadRequestError(str(exc)) from exc
        if not cert_ids:
            raise _BadRequestError("no certificate asked about")
        return cert_ids, nonce

    def _is_ours(self, cert_id: Any) -> bool:
        hashes = self._issuer_hashes.get(cert_id["hash_algorithm"]["algorithm"].native)
        return hashes is not None and hashes == (bytes(cert_id["issuer_name_hash"].native),
                                                 bytes(cert_id["issuer_key_hash"].native))

    def _pre_produced(self, cert_id: Any, now: datetime.datetime) -> OcspAnswer:
        key = cert_id.dump()
        entry = self._source.status_of(int(cert_id["serial_number"].native))
        seq = -1 if entry is None else entry.change_seq
        with self._cache_lock:
            cached = self._cache.get(key)
        fresh_until = None if cached is None else cached.this_update + self._validity / 2
        if cached is not None and fresh_until is not None and cached.change_seq == seq \
                and cached.this_update <= now < fresh_until:
            return OcspAnswer(cached.der, ResponseStatus.SUCCESSFUL, cached.this_update, cached.next_update,
                              cacheable=True)
        answer = self._produce([cert_id], [entry], now, None)
        assert answer.this_update is not None and answer.next_update is not None
        with self._cache_lock:
            self._cache[key] = _Cached(answer.der, answer.this_update, answer.next_update, seq)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return answer

    def _single(self, cert_id: Any, entry: StatusEntry | None, now: bytes, next_update: bytes) -> bytes:
        """One SingleResponse, DER-encoded by hand (the CertID is echoed as the request encoded it)."""
        if entry is None:
            status = _UNKNOWN
        elif entry.status is CertificateStatus.GOOD:
            status = _GOOD
        else:
            revoked = core.GeneralizedTime(entry.revoked_at).dump() if entry.revoked_at is not None else now
            if entry.reason is not None and entry.reason is not RevocationReason.UNSPECIFIED:
                revoked += der.explicit(0, der.enumerated(int(entry.reason)))
            status = der.tlv(0xA1, revoked)  # revoked [1] IMPLICIT RevokedInfo
        return der.sequence(cert_id.dump(), status, now, next_update)

    def _produce(self, cert_ids: list[Any], entries: list[StatusEntry | None], now: datetime.datetime,
                 nonce: Any | None) -> OcspAnswer:
        next_update = now + self._validity
        now_der, next_der = _generalized_time(now), der.explicit(0, _generalized_time(next_update))
        responses = der.sequence(*(self._single(c, e, now_der, next_der)
                                   for c, e in zip(cert_ids, entries, strict=True)))
        extensions = b"" if nonce is None else der.explicit(1, der.sequence(nonce.dump()))
        tbs = der.sequence(self._responder_id, now_der, responses, extensions)
        signature = self._signer.sign(tbs)
        basic = der.sequence(tbs, self._algorithm_der, der.bit_string(signature), self._certs_der)
        response_bytes = der.explicit(0, der.sequence(_BASIC_OID, der.octet_string(basic)))
        response = der.sequence(_SUCCESSFUL, response_bytes)
        return OcspAnswer(response, ResponseStatus.SUCCESSFUL, now, next_update, nonce is None)


def _generalized_time(moment: datetime.datetime) -> bytes:
    """GeneralizedTime of a UTC time, as asn1crypto encodes it (``YYYYMMDDHHMMSSZ`` for whole seconds)."""
    if moment.microsecond:  # only with a validity of fractional seconds: leave the fraction to asn1crypto
        return bytes(core.GeneralizedTime(moment).dump())
    return der.tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def _serial_der(serial: int) -> bytes:
    return bytes(core.Integer(serial).dump())
