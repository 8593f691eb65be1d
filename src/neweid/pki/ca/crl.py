"""Full and delta CRLs of the issuing CA (RFC 5280 §5), built in one pass by a direct DER encoder.

* Version 2, signed by the issuing CA's key through the key store (ECDSA P-521 / SHA-512).
* Extensions: authorityKeyIdentifier, cRLNumber (one monotonic sequence for full and delta CRLs),
  freshestCRL (full CRLs point to the delta URL), deltaCRLIndicator (critical, the base CRL's number).
* Entries: serial, revocationDate (time of revocation or suspension), reasonCode unless unspecified;
  suspended certificates appear with certificateHold. A delta CRL lists every certificate whose status
  changed after its base: newly suspended or revoked ones with their reason, and resumed ones with
  removeFromCRL.

Why a hand-written encoder: pyca/cryptography's ``CertificateRevocationListBuilder`` creates one Python
object per entry and needs the private key in memory; for a million entries it is several times slower
(scripts/bench_ca.py measures both) and could not sign through an HSM. The TBSCertList is produced here
straight from the registry's rows and then signed by the key store.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from neweid.pki.ca import _der
from neweid.pki.ca.errors import CaError, Refusal
from neweid.pki.ca.hierarchy import CaHierarchy, write_atomic
from neweid.pki.ca.registry import Registry, RevocationReason
from neweid.pki.errors import PkiError
from neweid.pki.keystore import KeyStoreSigner, SignatureAlgorithm

__all__ = [
    "DELTA_CRL_VALIDITY",
    "FULL_CRL_VALIDITY",
    "CrlIssuer",
    "IssuedCrl",
    "encode_entries",
    "encode_tbs_cert_list",
    "root_crl",
    "sign_tbs_cert_list",
]

_log = logging.getLogger(__name__)

FULL_CRL_VALIDITY = datetime.timedelta(hours=24)
DELTA_CRL_VALIDITY = datetime.timedelta(hours=1)

_SIGNATURE_OIDS = {
    SignatureAlgorithm.ECDSA_SHA256: "1.2.840.10045.4.3.2",
    SignatureAlgorithm.ECDSA_SHA384: "1.2.840.10045.4.3.3",
    SignatureAlgorithm.ECDSA_SHA512: "1.2.840.10045.4.3.4",
}
_REASON_CODE = _der.oid("2.5.29.21")
_REASON_EXTENSIONS = {
    int(reason): _der.sequence(_der.sequence(_REASON_CODE, _der.octet_string(_der.enumerated(int(reason)))))
    for reason in RevocationReason if reason is not RevocationReason.UNSPECIFIED
}


def _algorithm_identifier(algorithm: SignatureAlgorithm) -> bytes:
    return _der.sequence(_der.oid(_SIGNATURE_OIDS[SignatureAlgorithm(algorithm)]))


def _extension(oid: str, value: bytes, *, critical: bool = False) -> bytes:
    return _der.sequence(_der.oid(oid), b"\x01\x01\xff" if critical else b"", _der.octet_string(value))


def _uri_distribution_points(url: str) -> bytes:
    return _der.sequence(_der.sequence(_der.tlv(0xA0, _der.tlv(0xA0, _der.tlv(0x86, url.encode("ascii"))))))


_CLOCK: list[bytes] = []


def _clock_table() -> list[bytes]:
    """``hhmmssZ`` for every second of a day (built once, about 4 MB)."""
    if not _CLOCK:
        _CLOCK.extend(b"%02d%02d%02dZ" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400))
    return _CLOCK


def _time_prefix(day: int) -> bytes:
    """Tag, length and date part of an RFC 5280 Time for a day number since the epoch (UTC)."""
    date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
    if 1950 <= date.year < 2050:
        return b"\x17\x0d" + b"%02d%02d%02d" % (date.year % 100, date.month, date.day)
    return b"\x18\x0f" + b"%04d%02d%02d" % (date.year, date.month, date.day)


def encode_entries(
    rows: Iterable[tuple[str, int | None, int | None]], default_time: int
) -> tuple[bytes, int]:
    """DER of the revokedCertificates entries for rows (serial hex, revocation time, reason code), and
    their number. One pass, no objects per entry."""
    parts: list[bytes] = []
    append = parts.append
    days: dict[int, bytes] = {}
    clock = _clock_table()
    reasons = _REASON_EXTENSIONS
    fromhex = bytes.fromhex
    for serial, at, reason in rows:
        if len(serial) & 1:
            serial = "0" + serial
        number = fromhex(serial)
        if number[0] & 0x80:
            number = b"\x00" + number
        day, second = divmod(default_time if at is None else at, 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = _time_prefix(day)
            days[day] = prefix
        extension = reasons.get(reason, b"") if reason else b""
        size = len(number)
        if size > 21:
            raise CaError("a serial number longer than 20 octets cannot be listed", Refusal.BAD_REASON)
        append(b"\x30%c\x02%c%b%b%b%b" % (size + len(prefix) + len(extension) + 9, size, number, prefix,
                                           clock[second], extension))
    return b"".join(parts), len(parts)


def encode_tbs_cert_list(
    *,
    algorithm: SignatureAlgorithm,
    issuer: x509.Name,
    this_update: datetime.datetime,
    next_update: datetime.datetime,
    entries: bytes,
    extensions: list[bytes],
) -> bytes:
    """TBSCertList v2 from already-encoded entries and extensions."""
    return _der.sequence(
        _der.integer(1),
        _algorithm_identifier(algorithm),
        issuer.public_bytes(),
        _der.time(this_update),
        _der.time(next_update),
        _der.tlv(0x30, entries) if entries else b"",
        _der.explicit(0, _der.sequence(*extensions)) if extensions else b"",
    )


def sign_tbs_cert_list(tbs: bytes, signer: KeyStoreSigner) -> bytes:
    """CertificateList: the TBSCertList, the algorithm and the key store's signature."""
    try:
        signature = signer.sign(tbs)
    except PkiError as exc:
        raise CaError(f"the CRL could not be signed: {exc}", Refusal.STORAGE) from exc
    return _der.sequence(tbs, _algorithm_identifier(signer.algorithm), _der.bit_string(signature))


@dataclass(frozen=True)
class IssuedCrl:
    number: int
    delta_base: int | None
    this_update: datetime.datetime
    next_update: datetime.datetime
    entries: int
    der: bytes

    @property
    def pem(self) -> bytes:
        import base64
        body = base64.encodebytes(self.der).replace(b"\n", b"")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return b"-----BEGIN X509 CRL-----\n" + b"\n".join(lines) + b"\n-----END X509 CRL-----\n"


def _aki(certificate: x509.Certificate) -> bytes:
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    return _extension("2.5.29.35", _der.sequence(_der.tlv(0x80, ski)))


def _moment(now: datetime.datetime) -> datetime.datetime:
    if not isinstance(now, datetime.datetime) or now.tzinfo is None:
        raise CaError("now must be a timezone-aware datetime", Refusal.BAD_REASON)
    return now.astimezone(datetime.UTC).replace(microsecond=0)


class CrlIssuer:
    """Issues full and delta CRLs from the registry and publishes them in the CA directory."""

    def __init__(
        self,
        hierarchy: CaHierarchy,
        registry: Registry,
        *,
        full_validity: datetime.timedelta = FULL_CRL_VALIDITY,
        delta_validity: datetime.timedelta = DELTA_CRL_VALIDITY,
    ) -> None:
        self._hierarchy = hierarchy
        self._registry = registry
        self._full_validity = full_validity
        self._delta_validity = delta_validity

    def _build(self, *, now: datetime.datetime, validity: datetime.timedelta, entries: bytes, count: int,
               event_seq: int, base: int | None) -> IssuedCrl:
        issuing = self._hierarchy.issuing
        next_update = now + validity
        crl = self._registry.record_crl(delta_base=base, this_update=now, next_update=next_update,
                                        event_seq=event_seq)
        extensions = [_aki(issuing), _extension("2.5.29.20", _der.integer(crl.number))]
        if base is None:
            delta_url = self._hierarchy.urls.delta_crl
            extensions.append(_extension("2.5.29.46", _uri_distribution_points(delta_url)))
        else:
            extensions.append(_extension("2.5.29.27", _der.integer(base), critical=True))
        signer = self._hierarchy.issuing_signer
        tbs = encode_tbs_cert_list(algorithm=signer.algorithm, issuer=issuing.subject, this_update=now,
                                   next_update=next_update, entries=entries, extensions=extensions)
        der = sign_tbs_cert_list(tbs, signer)
        _log.info("issued %s CRL %d with %d entries", "full" if base is None else "delta", crl.number, count)
        return IssuedCrl(crl.number, base, now, next_update, count, der)

    def full(self, now: datetime.datetime) -> IssuedCrl:
        """A full CRL of every suspended and revoked certificate."""
        moment = _moment(now)
        event_seq = self._registry.last_event_seq()
        entries, count = encode_entries(self._registry.listed_entries(), int(moment.timestamp()))
        return self._build(now=moment, validity=self._full_validity, entries=entries, count=count,
                           event_seq=event_seq, base=None)

    def delta(self, now: datetime.datetime) -> IssuedCrl:
        """A delta CRL against the latest full CRL (:class:`CaError` if there is none yet)."""
        moment = _moment(now)
        base = self._registry.last_full_crl()
        if base is None:
            raise CaError("no full CRL has been issued yet: issue one before a delta CRL",
                          Refusal.NO_BASE_CRL)
        event_seq = self._registry.last_event_seq()
        remove = int(RevocationReason.REMOVE_FROM_CRL)
        rows = ((serial, at, remove if status == "good" else reason)
                for serial, status, reason, at in self._registry.changed_since(base.event_seq))
        entries, count = encode_entries(rows, int(moment.timestamp()))
        return self._build(now=moment, validity=self._delta_validity, entries=entries, count=count,
                           event_seq=event_seq, base=base.number)

    def publish(self, now: datetime.datetime, *, delta: bool = False) -> IssuedCrl:
        """Issue and write ``publish/crl/full.crl`` or ``delta.crl`` (DER), served at the CRL URLs."""
        crl = self.delta(now) if delta else self.full(now)
        target: Path = self._hierarchy.publish_dir / "crl" / ("delta.crl" if delta else "full.crl")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, crl.der)
        except OSError as exc:
            raise CaError(f"cannot publish the CRL: {exc.strerror}", Refusal.STORAGE) from exc
        return crl


def root_crl(hierarchy: CaHierarchy, now: datetime.datetime,
             validity: datetime.timedelta = datetime.timedelta(days=365)) -> bytes:
    """The root's (empty) CRL for the issuing CA's CRL distribution point; its number is the time."""
    moment = _moment(now)
    root = hierarchy.root
    signer = KeyStoreSigner(hierarchy.store, hierarchy.labels.root, SignatureAlgorithm.ECDSA_SHA512)
    tbs = encode_tbs_cert_list(
        algorithm=signer.algorithm, issuer=root.subject, this_update=moment, next_update=moment + validity,
        entries=b"", extensions=[_aki(root), _extension("2.5.29.20", _der.integer(int(moment.timestamp())))])
    der = sign_tbs_cert_list(tbs, signer)
    try:
        write_atomic(hierarchy.publish_dir / "crl" / "root.crl", der)
    except OSError as exc:
        raise CaError(f"cannot publish the root CRL: {exc.strerror}", Refusal.STORAGE) from exc
    return der
