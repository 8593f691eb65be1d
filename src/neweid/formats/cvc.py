"""Card-verifiable certificates and certificate requests (BSI TR-03110-3 App. C and D; PKI-5).

A certificate is ``7F21 { 7F4E body, 5F37 signature }`` with the body::

    7F4E { 5F29 profile identifier (00), 42 CAR, 7F49 public key, 5F20 CHR, 7F4C CHAT,
           5F25 effective date, 5F24 expiration date, [65 certificate extensions] }

and a request ``7F21 { 7F4E {5F29, [42 CAR], 7F49, 5F20 CHR, [65]}, 5F37 inner signature }``, optionally
authenticated as ``67 { 7F21 request, 42 outer CAR, 5F37 outer signature }``.

The codec is pure and strict: every data object must be present in the order above, lengths are
minimal, unsigned integers have no leading zero byte, dates are six unpacked BCD digits (YYMMDD, 20YY),
CAR/CHR are a 2-letter country code, a holder mnemonic of up to 9 ISO 8859-1 characters and a
5-character alphanumeric sequence number. Anything else raises :class:`CvcFormatError` naming the
field. A decoded certificate keeps the exact signed bytes (``body_der``), and since decoding accepts
only the canonical encoding, re-encoding gives back the original bytes.

Public keys are ECDSA keys (``id-TA-ECDSA-SHA-*``): ``7F49 { 06 OID, [81 p, 82 a, 83 b, 84 G, 85 n,]
86 public point, [87 cofactor] }``; the domain parameters are present in CVCA certificates (and
requests), absent in DV and terminal certificates. Signature verification is in
:mod:`neweid.crypto.cvc`.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Final

from asn1crypto.core import ObjectIdentifier

from neweid.formats import chat as neid_chat
from neweid.formats.errors import FormatError
from neweid.formats.tlv import Tlv, TlvError, encode_tlv, parse_tlvs

__all__ = [
    "ID_AT",
    "ID_IS",
    "ID_ST",
    "ID_TA_ECDSA",
    "ID_TA_ECDSA_SHA_1",
    "ID_TA_ECDSA_SHA_224",
    "ID_TA_ECDSA_SHA_256",
    "ID_TA_ECDSA_SHA_384",
    "ID_TA_ECDSA_SHA_512",
    "PROFILE_ID",
    "Chat",
    "CvCertificate",
    "CvCertificateBody",
    "CvPublicKey",
    "CvRequest",
    "CvRequestBody",
    "CvcFormatError",
    "DomainParameters",
    "HolderReference",
    "decode_cv_certificate",
    "decode_cv_date",
    "decode_cv_request",
    "encode_cv_body",
    "encode_cv_certificate",
    "encode_cv_date",
    "encode_cv_request",
    "encode_cv_request_body",
    "encode_inner_request",
    "outer_signature_input",
    "parse_holder_reference",
]

PROFILE_ID: Final = 0  # certificate profile identifier of TR-03110 version 2 (the only one defined)

ID_TA_ECDSA: Final = "0.4.0.127.0.7.2.2.2.2"
ID_TA_ECDSA_SHA_1: Final = f"{ID_TA_ECDSA}.1"
ID_TA_ECDSA_SHA_224: Final = f"{ID_TA_ECDSA}.2"
ID_TA_ECDSA_SHA_256: Final = f"{ID_TA_ECDSA}.3"
ID_TA_ECDSA_SHA_384: Final = f"{ID_TA_ECDSA}.4"
ID_TA_ECDSA_SHA_512: Final = f"{ID_TA_ECDSA}.5"
TA_ECDSA_OIDS: Final = frozenset({ID_TA_ECDSA_SHA_1, ID_TA_ECDSA_SHA_224, ID_TA_ECDSA_SHA_256,
                                  ID_TA_ECDSA_SHA_384, ID_TA_ECDSA_SHA_512})

_ID_ROLES = "0.4.0.127.0.7.3.1.2"
ID_IS: Final = f"{_ID_ROLES}.1"  # inspection system (ePassport)
ID_AT: Final = f"{_ID_ROLES}.2"  # authentication terminal (eID)
ID_ST: Final = f"{_ID_ROLES}.3"  # signature terminal

TAG_CV_CERTIFICATE: Final = 0x7F21
TAG_BODY: Final = 0x7F4E
TAG_PROFILE_ID: Final = 0x5F29
TAG_CAR: Final = 0x42
TAG_PUBLIC_KEY: Final = 0x7F49
TAG_CHR: Final = 0x5F20
TAG_CHAT: Final = 0x7F4C
TAG_EFFECTIVE: Final = 0x5F25
TAG_EXPIRY: Final = 0x5F24
TAG_EXTENSIONS: Final = 0x65
TAG_DISCRETIONARY_TEMPLATE: Final = 0x73
TAG_SIGNATURE: Final = 0x5F37
TAG_AUTHENTICATION: Final = 0x67
TAG_OID: Final = 0x06
TAG_DISCRETIONARY_DATA: Final = 0x53
_DOMAIN_TAGS = (0x81, 0x82, 0x83, 0x84, 0x85)  # p, a, b, G, n
TAG_POINT: Final = 0x86
TAG_COFACTOR: Final = 0x87

_REFERENCE = re.compile(r"([A-Z]{2})([\x20-\x7e\xa0-\xff]{0,9})([A-Za-z0-9]{5})")


class CvcFormatError(FormatError):
    """A CV certificate or request that does not follow TR-03110-3; ``field`` names the bad part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


# --- small values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HolderReference:
    """A CAR/CHR split into its parts (TR-03110-3 A.6.1): ``TW`` + ``CVCA`` + ``00001``."""

    country: str
    mnemonic: str
    sequence: str

    def __str__(self) -> str:
        return f"{self.country}{self.mnemonic}{self.sequence}"


def parse_holder_reference(text: str, field: str = "CHR") -> HolderReference:
    """Split and check a certificate holder/authority reference."""
    match = _REFERENCE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise CvcFormatError(field, f"{text!r} is not a 2-letter country code + holder mnemonic (at most 9 "
                                    "characters) + 5-character alphanumeric sequence number")
    return HolderReference(*match.groups())


def encode_cv_date(day: datetime.date, field: str = "date") -> bytes:
    """YYMMDD as six unpacked BCD digits (one digit per byte), years 2000..2099."""
    if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
        raise CvcFormatError(field, f"expected a datetime.date, not {type(day).__name__}")
    if not 2000 <= day.year <= 2099:
        raise CvcFormatError(field, f"{day.isoformat()} is outside 2000..2099")
    return bytes(int(c) for c in day.strftime("%y%m%d"))


def decode_cv_date(data: bytes, field: str = "date") -> datetime.date:
    """The date of six unpacked BCD digits YYMMDD (20YY)."""
    if len(data) != 6 or any(b > 9 for b in data):
        raise CvcFormatError(field, f"expected 6 unpacked BCD digits, got {bytes(data).hex().upper()}")
    try:
        return datetime.date(2000 + 10 * data[0] + data[1], 10 * data[2] + data[3], 10 * data[4] + data[5])
    except ValueError as exc:
        raise CvcFormatError(field, f"no such date {bytes(data).hex().upper()}: {exc}") from None


def _encode_unsigned(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _decode_unsigned(data: bytes, field: str) -> int:
    if not data or (len(data) > 1 and data[0] == 0):
        raise CvcFormatError(field, "an unsigned integer has at least one byte and no leading zero byte")
    return int.from_bytes(data, "big")


def _encode_oid(oid: str, field: str) -> bytes:
    try:
        return bytes(ObjectIdentifier(oid).dump())
    except (ValueError, TypeError) as exc:
        raise CvcFormatError(field, f"invalid object identifier {oid!r}") from exc


def _decode_oid(tlv: Tlv, field: str) -> str:
    try:
        dotted = str(ObjectIdentifier.load(tlv.encode()).dotted)
    except (ValueError, TypeError) as exc:
        raise CvcFormatError(field, "malformed object identifier") from exc
    if _encode_oid(dotted, field) != tlv.encode():
        raise CvcFormatError(field, "non-canonical object identifier encoding")
    return dotted


def _check_point(point: bytes, field: str) -> None:
    if not isinstance(point, bytes) or len(point) < 3 or len(point) % 2 == 0 or point[0] != 0x04:
        raise CvcFormatError(field, "expected an uncompressed EC point 04 || X || Y")


def _check_int(value: object, field: str, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CvcFormatError(field, f"expected an integer >= {minimum}")


@dataclass(frozen=True)
class DomainParameters:
    """Explicit EC domain parameters of a CVCA key: y² = x³ + ax + b over GF(p), generator ``g``
    (encoded point) of order ``n``, cofactor ``h`` (optional in the encoding)."""

    p: int
    a: int
    b: int
    g: bytes
    n: int
    h: int | None

    def __post_init__(self) -> None:
        for name in ("p", "n"):
            _check_int(getattr(self, name), f"domain parameter {name}", 2)
        for name in ("a", "b"):
            _check_int(getattr(self, name), f"domain parameter {name}")
        if self.h is not None:
            _check_int(self.h, "domain parameter h", 1)
        _check_point(self.g, "domain parameter G")


@dataclass(frozen=True)
class CvPublicKey:
    """An ECDSA public key data object: the TA algorithm OID, the public point, optional domain params."""

    oid: str
    point: bytes
    domain: DomainParameters | None = None

    def __post_init__(self) -> None:
        if self.oid not in TA_ECDSA_OIDS:
            raise CvcFormatError("public key OID", f"unsupported algorithm {self.oid} (expected an "
                                                   f"id-TA-ECDSA-SHA-* OID under {ID_TA_ECDSA})")
        _check_point(self.point, "public key point")


@dataclass(frozen=True)
class Chat:
    """Certificate Holder Authorization Template: terminal type OID and discretionary data (the role in
    the two most significant bits, rights below)."""

    terminal_type: str
    discretionary: bytes

    def __post_init__(self) -> None:
        _encode_oid(self.terminal_type, "CHAT terminal type")
        if not isinstance(self.discretionary, bytes) or not self.discretionary:
            raise CvcFormatError("CHAT", "the discretionary data must be at least one byte")
        if (self.terminal_type == neid_chat.ID_NEID_TERMINAL
                and len(self.discretionary) != neid_chat.CHAT_LENGTH):
            raise CvcFormatError("CHAT", f"a New eID CHAT has {neid_chat.CHAT_LENGTH} bytes of "
                                         f"discretionary data, not {len(self.discretionary)}")

    @classmethod
    def neid(cls, role: neid_chat.Role, rights: neid_chat.NeidRight) -> Chat:
        """A CHAT of the New eID terminal type."""
        try:
            data = neid_chat.encode_discretionary(role, rights)
        except ValueError as exc:
            raise CvcFormatError("CHAT", str(exc)) from None
        return cls(neid_chat.ID_NEID_TERMINAL, data)

    @property
    def role(self) -> neid_chat.Role:
        """The role (bits 8-7 of the first byte), for any terminal type."""
        return neid_chat.Role(self.discretionary[0] >> 6)

    @property
    def is_neid(self) -> bool:
        return self.terminal_type == neid_chat.ID_NEID_TERMINAL

    @property
    def rights(self) -> neid_chat.NeidRight:
        """The New eID rights; :class:`CvcFormatError` for another terminal type."""
        if not self.is_neid:
            raise CvcFormatError("CHAT", f"terminal type {self.terminal_type} is not the New eID type")
        return neid_chat.decode_discretionary(self.discretionary)[1]

    @property
    def rights_bits(self) -> int:
        """The discretionary data without the role bits, as an integer (any terminal type)."""
        value = int.from_bytes(self.discretionary, "big")
        return value & ((1 << (8 * len(self.discretionary) - 2)) - 1)


def _check_extensions(data: bytes | None, field: str = "certificate extensions") -> None:
    if data is None:
        return
    if not isinstance(data, bytes):
        raise CvcFormatError(field, "expected bytes")
    try:
        templates = parse_tlvs(data, strict_lengths=True)
        for template in templates:
            if template.tag != TAG_DISCRETIONARY_TEMPLATE:
                raise CvcFormatError(field, f"expected discretionary data templates (73), not "
                                            f"{template.tag:X}")
            children = template.children()
            if not children or children[0].tag != TAG_OID:
                raise CvcFormatError(field, "a discretionary data template starts with its OID")
            _decode_oid(children[0], field)
    except TlvError as exc:
        raise CvcFormatError(field, str(exc)) from None


def _check_common(profile_id: int, chr_: str, car: str | None, extensions: bytes | None) -> None:
    if profile_id != PROFILE_ID:
        raise CvcFormatError("profile identifier", f"unsupported value {profile_id!r} (expected 0)")
    parse_holder_reference(chr_, "CHR")
    if car is not None:
        parse_holder_reference(car, "CAR")
    _check_extensions(extensions)


@dataclass(frozen=True)
class CvCertificateBody:
    """The signed part of a CV certificate (dates are days, 2000..2099)."""

    profile_id: int
    car: str
    public_key: CvPublicKey
    chr: str
    chat: Chat
    effective: datetime.date
    expiry: datetime.date
    extensions: bytes | None = None

    def __post_init__(self) -> None:
        _check_common(self.profile_id, self.chr, self.car, self.extensions)
        encode_cv_date(self.effective, "effective date")
        encode_cv_date(self.expiry, "expiration date")
        if self.expiry < self.effective:
            raise CvcFormatError("expiration date", f"{self.expiry} is before the effective date "
                                                    f"{self.effective}")


@dataclass(frozen=True)
class CvCertificate:
    """A CV certificate: its body, the plain signature, and ``body_der``, the exact signed ``7F4E``
    data object (which must encode ``body``)."""

    body: CvCertificateBody
    signature: bytes
    body_der: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.signature, bytes) or not self.signature:
            raise CvcFormatError("signature", "the signature must not be empty")
        if self.body_der != encode_cv_body(self.body):
            raise CvcFormatError("body", "body_der is not the encoding of body")

    @classmethod
    def from_body(cls, body: CvCertificateBody, signature: bytes) -> CvCertificate:
        return cls(body, signature, encode_cv_body(body))

    @property
    def car(self) -> str:
        return self.body.car

    @property
    def chr(self) -> str:
        return self.body.chr

    @property
    def is_self_signed(self) -> bool:
        return self.body.car == self.body.chr


@dataclass(frozen=True)
class CvRequestBody:
    """The signed part of a certificate request (the CAR names the CA it is meant for, if known)."""

    profile_id: int
    car: str | None
    public_key: CvPublicKey
    chr: str
    extensions: bytes | None = None

    def __post_init__(self) -> None:
        _check_common(self.profile_id, self.chr, self.car, self.extensions)


@dataclass(frozen=True)
class CvRequest:
    """A certificate request: body, inner signature (with the requested key) and ``body_der``; for an
    authenticated request also the outer CAR and the outer signature (with the holder's current key) over
    :func:`outer_signature_input`."""

    body: CvRequestBody
    inner_signature: bytes
    body_der: bytes
    outer_car: str | None = None
    outer_signature: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.inner_signature, bytes) or not self.inner_signature:
            raise CvcFormatError("inner signature", "the signature must not be empty")
        if self.body_der != encode_cv_request_body(self.body):
            raise CvcFormatError("body", "body_der is not the encoding of body")
        if (self.outer_car is None) != (self.outer_signature is None):
            raise CvcFormatError("outer signature", "an authenticated request has both an outer CAR and "
                                                    "an outer signature")
        if self.outer_car is not None:
            parse_holder_reference(self.outer_car, "outer CAR")
        if self.outer_signature is not None and not self.outer_signature:
            raise CvcFormatError("outer signature", "the signature must not be empty")

    @classmethod
    def from_body(cls, body: CvRequestBody, inner_signature: bytes) -> CvRequest:
        return cls(body, inner_signature, encode_cv_request_body(body))

    @property
    def authenticated(self) -> bool:
        return self.outer_signature is not None


# --- encoding -------------------------------------------------------------------------------------


def _encode_reference(ref: str) -> bytes:
    return ref.encode("latin-1")


def _encode_public_key(key: CvPublicKey) -> bytes:
    parts = [_encode_oid(key.oid, "public key OID")]
    d = key.domain
    if d is not None:
        for tag, value in zip(_DOMAIN_TAGS, (_encode_unsigned(d.p), _encode_unsigned(d.a),
                                             _encode_unsigned(d.b), d.g, _encode_unsigned(d.n)), strict=True):
            parts.append(encode_tlv(tag, value))
    parts.append(encode_tlv(TAG_POINT, key.point))
    if d is not None and d.h is not None:
        parts.append(encode_tlv(TAG_COFACTOR, _encode_unsigned(d.h)))
    return encode_tlv(TAG_PUBLIC_KEY, b"".join(parts))


def _encode_chat(c: Chat) -> bytes:
    return encode_tlv(TAG_CHAT, _encode_oid(c.terminal_type, "CHAT terminal type")
                      + encode_tlv(TAG_DISCRETIONARY_DATA, c.discretionary))


def encode_cv_body(body: CvCertificateBody) -> bytes:
    """The ``7F4E`` data object of a certificate body (the bytes that are signed)."""
    parts = [
        encode_tlv(TAG_PROFILE_ID, _encode_unsigned(body.profile_id)),
        encode_tlv(TAG_CAR, _encode_reference(body.car)),
        _encode_public_key(body.public_key),
        encode_tlv(TAG_CHR, _encode_reference(body.chr)),
        _encode_chat(body.chat),
        encode_tlv(TAG_EFFECTIVE, encode_cv_date(body.effective, "effective date")),
        encode_tlv(TAG_EXPIRY, encode_cv_date(body.expiry, "expiration date")),
    ]
    if body.extensions is not None:
        parts.append(encode_tlv(TAG_EXTENSIONS, body.extensions))
    return encode_tlv(TAG_BODY, b"".join(parts))


def encode_cv_certificate(cert: CvCertificate) -> bytes:
    """``7F21 { body_der, 5F37 signature }``."""
    return encode_tlv(TAG_CV_CERTIFICATE, cert.body_der + encode_tlv(TAG_SIGNATURE, cert.signature))


def encode_cv_request_body(body: CvRequestBody) -> bytes:
    """The ``7F4E`` data object of a request body (signed by the inner signature)."""
    parts = [encode_tlv(TAG_PROFILE_ID, _encode_unsigned(body.profile_id))]
    if body.car is not None:
        parts.append(encode_tlv(TAG_CAR, _encode_reference(body.car)))
    parts += [_encode_public_key(body.public_key), encode_tlv(TAG_CHR, _encode_reference(body.chr))]
    if body.extensions is not None:
        parts.append(encode_tlv(TAG_EXTENSIONS, body.extensions))
    return encode_tlv(TAG_BODY, b"".join(parts))


def encode_inner_request(request: CvRequest) -> bytes:
    """The ``7F21`` request without the authentication wrapper."""
    signature = encode_tlv(TAG_SIGNATURE, request.inner_signature)
    return encode_tlv(TAG_CV_CERTIFICATE, request.body_der + signature)


def outer_signature_input(request: CvRequest, outer_car: str) -> bytes:
    """The bytes the outer signature covers: the ``7F21`` request followed by the ``42`` outer-CAR data
    object (TR-03110-3 C.2; EJBCA's cert-cvc does the same, OpenPACE signs the CAR's value only)."""
    parse_holder_reference(outer_car, "outer CAR")
    return encode_inner_request(request) + encode_tlv(TAG_CAR, _encode_reference(outer_car))


def encode_cv_request(request: CvRequest) -> bytes:
    """The request, wrapped in ``67 {...}`` when it is authenticated."""
    inner = encode_inner_request(request)
    if request.outer_car is None or request.outer_signature is None:
        return inner
    return encode_tlv(TAG_AUTHENTICATION, inner + encode_tlv(TAG_CAR, _encode_reference(request.outer_car))
                      + encode_tlv(TAG_SIGNATURE, request.outer_signature))


# --- decoding -------------------------------------------------------------------------------------


class _Reader:
    """Consumes the data objects of a constructed object in order, naming what is missing."""

    def __init__(self, items: list[Tlv], where: str) -> None:
        self._items = items
        self._pos = 0
        self._where = where

    def take(self, tag: int, field: str) -> Tlv:
        item = self.optional(tag)
        if item is None:
            found = f"{self._items[self._pos].tag:X}" if self._pos < len(self._items) else "the end"
            raise CvcFormatError(field, f"missing data object {tag:X} in {self._where} (found {found})")
        return item

    def optional(self, tag: int) -> Tlv | None:
        if self._pos < len(self._items) and self._items[self._pos].tag == tag:
            self._pos += 1
            return self._items[self._pos - 1]
        return None

    def end(self) -> None:
        if self._pos != len(self._items):
            raise CvcFormatError(self._where, f"unexpected data object {self._items[self._pos].tag:X}")


def _parse(data: bytes, field: str) -> list[Tlv]:
    try:
        return parse_tlvs(data, strict_lengths=True)
    except TlvError as exc:
        raise CvcFormatError(field, str(exc)) from None


def _single(data: bytes, tag: int, field: str) -> Tlv:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CvcFormatError(field, f"expected bytes, not {type(data).__name__}")
    items = _parse(bytes(data), field)
    if len(items) != 1 or items[0].tag != tag:
        raise CvcFormatError(field, f"expected exactly one data object {tag:X}")
    return items[0]


def _decode_reference(tlv: Tlv, field: str) -> str:
    text = tlv.value.decode("latin-1")
    parse_holder_reference(text, field)
    return text


def _decode_public_key(tlv: Tlv) -> CvPublicKey:
    r = _Reader(_parse(tlv.value, "public key"), "public key")
    oid = _decode_oid(r.take(TAG_OID, "public key OID"), "public key OID")
    names = ("p", "a", "b", "G", "n")
    raw = [r.optional(tag) for tag in _DOMAIN_TAGS]
    point = r.take(TAG_POINT, "public key point").value
    cofactor = r.optional(TAG_COFACTOR)
    r.end()
    domain: DomainParameters | None = None
    if any(item is not None for item in raw) or cofactor is not None:
        missing = [n for n, item in zip(names, raw, strict=True) if item is None]
        if missing:
            raise CvcFormatError("domain parameters", f"incomplete: {', '.join(missing)} missing")
        p, a, b, g, n = (item.value for item in raw if item is not None)
        h = None if cofactor is None else _decode_unsigned(cofactor.value, "domain parameter h")
        domain = DomainParameters(
            _decode_unsigned(p, "domain parameter p"), _decode_unsigned(a, "domain parameter a"),
            _decode_unsigned(b, "domain parameter b"), g, _decode_unsigned(n, "domain parameter n"), h)
    return CvPublicKey(oid, point, domain)


def _decode_chat(tlv: Tlv) -> Chat:
    r = _Reader(_parse(tlv.value, "CHAT"), "CHAT")
    terminal_type = _decode_oid(r.take(TAG_OID, "CHAT terminal type"), "CHAT terminal type")
    data = r.take(TAG_DISCRETIONARY_DATA, "CHAT").value
    r.end()
    return Chat(terminal_type, data)


def _profile(r: _Reader) -> int:
    return _decode_unsigned(r.take(TAG_PROFILE_ID, "profile identifier").value, "profile identifier")


def _decode_body(tlv: Tlv) -> CvCertificateBody:
    r = _Reader(_parse(tlv.value, "body"), "body")
    profile = _profile(r)
    car = _decode_reference(r.take(TAG_CAR, "CAR"), "CAR")
    key = _decode_public_key(r.take(TAG_PUBLIC_KEY, "public key"))
    chr_ = _decode_reference(r.take(TAG_CHR, "CHR"), "CHR")
    chat = _decode_chat(r.take(TAG_CHAT, "CHAT"))
    effective = decode_cv_date(r.take(TAG_EFFECTIVE, "effective date").value, "effective date")
    expiry = decode_cv_date(r.take(TAG_EXPIRY, "expiration date").value, "expiration date")
    ext = r.optional(TAG_EXTENSIONS)
    r.end()
    return CvCertificateBody(profile, car, key, chr_, chat, effective, expiry,
                             None if ext is None else ext.value)


def decode_cv_certificate(data: bytes) -> CvCertificate:
    """Decode a ``7F21`` CV certificate (nothing may follow it)."""
    outer = _single(data, TAG_CV_CERTIFICATE, "certificate")
    r = _Reader(_parse(outer.value, "certificate"), "certificate")
    body_tlv = r.take(TAG_BODY, "body")
    signature = r.take(TAG_SIGNATURE, "signature").value
    r.end()
    body = _decode_body(body_tlv)
    body_der = body_tlv.encode()
    if encode_cv_body(body) != body_der:  # pragma: no cover - every field is checked to be canonical
        raise CvcFormatError("body", "non-canonical encoding")
    return CvCertificate(body, signature, body_der)


def _decode_request_inner(tlv: Tlv) -> tuple[CvRequestBody, bytes, bytes]:
    r = _Reader(_parse(tlv.value, "request"), "request")
    body_tlv = r.take(TAG_BODY, "body")
    signature = r.take(TAG_SIGNATURE, "inner signature").value
    r.end()
    b = _Reader(_parse(body_tlv.value, "body"), "body")
    profile = _profile(b)
    car_tlv = b.optional(TAG_CAR)
    car = None if car_tlv is None else _decode_reference(car_tlv, "CAR")
    key = _decode_public_key(b.take(TAG_PUBLIC_KEY, "public key"))
    chr_ = _decode_reference(b.take(TAG_CHR, "CHR"), "CHR")
    ext = b.optional(TAG_EXTENSIONS)
    b.end()
    body = CvRequestBody(profile, car, key, chr_, None if ext is None else ext.value)
    return body, signature, body_tlv.encode()


def decode_cv_request(data: bytes) -> CvRequest:
    """Decode a request ``7F21 {...}`` or an authenticated request ``67 {7F21, 42, 5F37}``."""
    if isinstance(data, bytes | bytearray) and data[:1] == bytes([TAG_AUTHENTICATION]):
        outer = _single(data, TAG_AUTHENTICATION, "authenticated request")
        r = _Reader(_parse(outer.value, "authenticated request"), "authenticated request")
        inner = r.take(TAG_CV_CERTIFICATE, "request")
        outer_car = _decode_reference(r.take(TAG_CAR, "outer CAR"), "outer CAR")
        outer_signature = r.take(TAG_SIGNATURE, "outer signature").value
        r.end()
        body, signature, body_der = _decode_request_inner(inner)
        return CvRequest(body, signature, body_der, outer_car, outer_signature)
    body, signature, body_der = _decode_request_inner(_single(data, TAG_CV_CERTIFICATE, "request"))
    return CvRequest(body, signature, body_der)
