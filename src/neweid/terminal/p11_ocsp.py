"""OCSP of the citizen-certificate library (table 11 "OCSP 操作": OCSPCheckSN, OCSPCheckCert; PKI-3,
RFC 6960): build a request with pyca/cryptography, POST it (``application/ocsp-request``) to the
responder named in the certificate's authorityInfoAccess or to a given URL, and check the answer.

The answer is accepted only when it is signed by the issuing CA or by a responder certificate the CA
issued for OCSP signing (id-kp-OCSPSigning), names the requested certificate, echoes the request's nonce
when it carries one, and is current at ``now``. The HTTP exchange is a parameter (``post``) so that
tests and servers can route it; :func:`urllib_post` is the default.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from neweid.terminal.p11_cert import cert_to_der, get_ocsp, verify_cert, verify_signed_by
from neweid.terminal.p11_errors import Ckr, OcspError, P11Error, SignatureInvalidError

__all__ = [
    "CertStatus",
    "HttpPost",
    "OcspResult",
    "build_ocsp_request",
    "check_ocsp_response",
    "ocsp_check_cert",
    "ocsp_check_sn",
    "urllib_post",
]

log = logging.getLogger(__name__)

HttpPost = Callable[[str, bytes], bytes]
NONCE_LENGTH = 16
CLOCK_SKEW = datetime.timedelta(minutes=5)
_MAX_RESPONSE = 1 << 20


class CertStatus(Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class OcspResult:
    """A checked OCSP answer for one certificate. ``revocation_reason`` is the RFC 5280 CRLReason name
    (``"certificate_hold"`` for a suspended certificate, PKI-3) when the responder gives one."""

    serial_number: int
    status: CertStatus
    this_update: datetime.datetime
    next_update: datetime.datetime | None
    produced_at: datetime.datetime
    revocation_time: datetime.datetime | None = None
    revocation_reason: str | None = None


def urllib_post(url: str, body: bytes, timeout: float = 10.0) -> bytes:
    """POST an OCSP request over HTTP(S) with urllib; raises :class:`OcspError` on any failure."""
    if not url.lower().startswith(("http://", "https://")):
        raise OcspError(f"not an HTTP(S) URL: {url!r}")
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - scheme checked above
                                     headers={"Content-Type": "application/ocsp-request",
                                              "Accept": "application/ocsp-response"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data: bytes = response.read(_MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OcspError(f"cannot reach the responder {url}: {exc}") from exc
    if len(data) > _MAX_RESPONSE:
        raise OcspError("the responder's answer is too long")
    return data


def _issuer_hashes(issuer: x509.Certificate) -> tuple[bytes, bytes]:
    """SHA-1 of the issuer's DER name and of its public key BIT STRING (RFC 6960 CertID)."""
    name_der = issuer.subject.public_bytes()
    parsed = asn1_x509.Certificate.load(cert_to_der(issuer))
    key_hash: bytes = parsed.public_key.sha1
    return hashlib.sha1(name_der).digest(), key_hash  # noqa: S324 - CertID hash of RFC 6960


def build_ocsp_request(serial_number: int, issuer: x509.Certificate, nonce: bytes | None = None) -> bytes:
    """The DER OCSPRequest for ``serial_number`` of ``issuer`` (CertID with SHA-1), with a nonce
    extension when ``nonce`` is given."""
    if serial_number < 0:
        raise P11Error(Ckr.ARGUMENTS_BAD, "a certificate serial number is not negative")
    name_hash, key_hash = _issuer_hashes(issuer)
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(name_hash, key_hash, serial_number,
                                                                hashes.SHA1())  # noqa: S303
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _responder_key(response: ocsp.OCSPResponse, issuer: x509.Certificate,
                   now: datetime.datetime) -> CertificatePublicKeyTypes:
    _, issuer_key_hash = _issuer_hashes(issuer)
    if response.responder_name == issuer.subject or response.responder_key_hash == issuer_key_hash:
        return issuer.public_key()
    for candidate in response.certificates:
        matches = (candidate.subject == response.responder_name
                   or (response.responder_key_hash is not None
                       and _issuer_hashes(candidate)[1] == response.responder_key_hash))
        if not matches:
            continue
        try:
            verify_cert(candidate, issuer)
        except SignatureInvalidError as exc:
            raise OcspError("the responder certificate was not issued by the certificate's CA") from exc
        try:
            usage = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound as exc:
            raise OcspError("the responder certificate is not authorised for OCSP signing") from exc
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
            raise OcspError("the responder certificate is not authorised for OCSP signing")
        if not candidate.not_valid_before_utc <= now <= candidate.not_valid_after_utc:
            raise OcspError("the responder certificate is not valid now")
        return candidate.public_key()
    raise OcspError("the response is signed neither by the issuer nor by a responder it authorised")


def check_ocsp_response(data: bytes, serial_number: int, issuer: x509.Certificate, *,
                        now: datetime.datetime, nonce: bytes | None = None) -> OcspResult:
    """Parse and check a DER OCSPResponse for ``serial_number`` of ``issuer``."""
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        raise OcspError(f"malformed response: {exc}") from exc
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspError(f"the responder answered {response.response_status.name.lower()}")
    try:
        algorithm = response.signature_hash_algorithm
    except UnsupportedAlgorithm as exc:
        raise OcspError(f"unsupported signature algorithm: {exc}") from exc
    key = _responder_key(response, issuer, now)
    try:
        verify_signed_by(response.signature, response.tbs_response_bytes, algorithm, key,
                         "the OCSP response signature")
    except SignatureInvalidError as exc:
        raise OcspError(str(exc)) from exc
    if nonce is not None:
        try:
            echoed = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        except x509.ExtensionNotFound:
            echoed = None
        if echoed is not None and echoed != nonce:
            raise OcspError("the response's nonce does not match the request (replayed answer?)")
    name_hash, key_hash = _issuer_hashes(issuer)
    for single in response.responses:
        if (single.serial_number == serial_number and single.issuer_key_hash == key_hash
                and single.issuer_name_hash == name_hash):
            break
    else:
        raise OcspError("the response does not cover the requested certificate")
    if single.this_update_utc > now + CLOCK_SKEW:
        raise OcspError("the response's thisUpdate is in the future")
    if single.next_update_utc is not None and single.next_update_utc < now - CLOCK_SKEW:
        raise OcspError("the response is out of date (nextUpdate passed)")
    status = {ocsp.OCSPCertStatus.GOOD: CertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED: CertStatus.REVOKED,
              ocsp.OCSPCertStatus.UNKNOWN: CertStatus.UNKNOWN}[single.certificate_status]
    reason = single.revocation_reason.name if single.revocation_reason is not None else None
    return OcspResult(serial_number, status, single.this_update_utc, single.next_update_utc,
                      response.produced_at_utc, single.revocation_time_utc, reason)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def ocsp_check_sn(serial_number: int, issuer: x509.Certificate, url: str, *, post: HttpPost = urllib_post,
                  now: Callable[[], datetime.datetime] = _now,
                  rng: Callable[[int], bytes] = os.urandom) -> OcspResult:
    """OCSPCheckSN: the status of the certificate ``serial_number`` of ``issuer`` at the responder
    ``url``."""
    if serial_number < 0:
        raise OcspError("a certificate serial number is not negative")
    nonce = rng(NONCE_LENGTH)
    request = build_ocsp_request(serial_number, issuer, nonce)
    log.info("OCSP request for serial %x to %s", serial_number, url)
    answer = post(url, request)
    return check_ocsp_response(answer, serial_number, issuer, now=now(), nonce=nonce)


def ocsp_check_cert(cert: x509.Certificate, issuer: x509.Certificate, *, url: str | None = None,
                    post: HttpPost = urllib_post, now: Callable[[], datetime.datetime] = _now,
                    rng: Callable[[int], bytes] = os.urandom) -> OcspResult:
    """OCSPCheckCert: the status of ``cert`` at ``url`` or else at the first OCSP responder of its
    authorityInfoAccess."""
    if cert.issuer != issuer.subject:
        raise OcspError("the certificate was not issued by the given issuer")
    target = url or next(iter(get_ocsp(cert)), None)
    if target is None:
        raise OcspError("the certificate names no OCSP responder (authorityInfoAccess) and no URL was given")
    return ocsp_check_sn(cert.serial_number, issuer, target, post=post, now=now, rng=rng)
