"""TR-03110-3 SecurityInfos (EF.CardAccess, EF.CardSecurity content) and ICAO ActiveAuthenticationInfo.

::

    SecurityInfos ::= SET OF SecurityInfo
    SecurityInfo ::= SEQUENCE { protocol OBJECT IDENTIFIER, requiredData ANY, optionalData ANY OPTIONAL }

Recognised (by protocol OID): PACEInfo, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
TerminalAuthenticationInfo (TR-03110-3 A.1.1) and ActiveAuthenticationInfo (ICAO 9303-11 §6.1). Every
other SecurityInfo (domain-parameter infos, CardInfo, PrivilegedTerminalInfo, RI, …) is kept opaque as its
DER bytes, so a decoded list re-encodes to the same bytes. :func:`encode_security_infos` writes DER: the
SET OF elements are sorted by their encodings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asn1crypto import core

from neweid.formats.errors import FormatError

__all__ = [
    "ECDSA_WITH_SHA512",
    "ID_AA",
    "ID_CA",
    "ID_CA_ECDH_AES_CBC_CMAC_256",
    "ID_PACE",
    "ID_PACE_ECDH_GM_AES_CBC_CMAC_256",
    "ID_PK",
    "ID_PK_ECDH",
    "ID_TA",
    "ActiveAuthenticationInfo",
    "ChipAuthenticationInfo",
    "ChipAuthenticationPublicKeyInfo",
    "PACEInfo",
    "SecurityInfo",
    "SecurityInfoFormatError",
    "TerminalAuthenticationInfo",
    "UnknownSecurityInfo",
    "decode_security_infos",
    "encode_security_infos",
]

_BSI_PROTOCOLS = "0.4.0.127.0.7.2.2"
ID_PK = f"{_BSI_PROTOCOLS}.1"
ID_PK_DH = f"{ID_PK}.1"
ID_PK_ECDH = f"{ID_PK}.2"
ID_TA = f"{_BSI_PROTOCOLS}.2"
ID_CA = f"{_BSI_PROTOCOLS}.3"
ID_CA_ECDH_AES_CBC_CMAC_256 = f"{ID_CA}.2.4"
ID_PACE = f"{_BSI_PROTOCOLS}.4"
ID_PACE_ECDH_GM_AES_CBC_CMAC_256 = f"{ID_PACE}.2.4"
ID_AA = "2.23.136.1.1.5"  # id-icao-mrtd-security-aaProtocolObject
ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4"


class SecurityInfoFormatError(FormatError):
    """SecurityInfos bytes or values that break TR-03110-3 / ICAO 9303-11."""


# --- ASN.1 -------------------------------------------------------------------------------------------


class _RawSecurityInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class _RawSecurityInfos(core.SetOf):  # type: ignore[misc]
    _child_spec = _RawSecurityInfo


class _AlgorithmIdentifier(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]
    """Generic SPKI: the algorithm may be a TR-03110 standardized-domain-parameter reference."""

    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("algorithm", _AlgorithmIdentifier),
        ("subject_public_key", core.BitString),
    ]


# --- values ------------------------------------------------------------------------------------------


def _check_int(name: str, value: int | None, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if type(value) is not int or value < 0:
        raise SecurityInfoFormatError(f"{name} must be a non-negative integer")


def _check_oid(name: str, value: str, prefix: str | None = None) -> None:
    try:
        core.ObjectIdentifier(value).dump()
    except (ValueError, TypeError) as exc:
        raise SecurityInfoFormatError(f"{name} {value!r} is not an object identifier") from exc
    if prefix is not None and not value.startswith(prefix + "."):
        raise SecurityInfoFormatError(f"{name} {value} is not under {prefix}")


@dataclass(frozen=True)
class PACEInfo:
    """PACEInfo: protocol (e.g. id-PACE-ECDH-GM-AES-CBC-CMAC-256), version 2, standardized parameter ID."""

    protocol: str = ID_PACE_ECDH_GM_AES_CBC_CMAC_256
    version: int = 2
    parameter_id: int | None = None

    def __post_init__(self) -> None:
        _check_oid("PACEInfo protocol", self.protocol, ID_PACE)
        if self.protocol.count(".") != ID_PACE.count(".") + 2:
            raise SecurityInfoFormatError(f"PACEInfo protocol {self.protocol} is not a PACE protocol")
        if self.version != 2 or type(self.version) is not int:
            raise SecurityInfoFormatError(f"PACEInfo version must be 2, not {self.version!r}")
        _check_int("PACEInfo parameterId", self.parameter_id, optional=True)


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    """ChipAuthenticationInfo: protocol (id-CA-…), version (1..3), optional keyId."""

    protocol: str = ID_CA_ECDH_AES_CBC_CMAC_256
    version: int = 2
    key_id: int | None = None

    def __post_init__(self) -> None:
        _check_oid("ChipAuthenticationInfo protocol", self.protocol, ID_CA)
        if self.protocol.count(".") != ID_CA.count(".") + 2:
            raise SecurityInfoFormatError(f"{self.protocol} is not a Chip Authentication protocol")
        if type(self.version) is not int or self.version not in (1, 2, 3):
            raise SecurityInfoFormatError(f"ChipAuthenticationInfo version must be 1-3, not {self.version!r}")
        _check_int("ChipAuthenticationInfo keyId", self.key_id, optional=True)


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo:
    """ChipAuthenticationPublicKeyInfo: protocol id-PK-ECDH/DH, DER SubjectPublicKeyInfo, optional keyId."""

    public_key: bytes
    protocol: str = ID_PK_ECDH
    key_id: int | None = None

    def __post_init__(self) -> None:
        if self.protocol not in (ID_PK_DH, ID_PK_ECDH):
            raise SecurityInfoFormatError(f"{self.protocol} is not id-PK-DH or id-PK-ECDH")
        if not isinstance(self.public_key, bytes):
            raise SecurityInfoFormatError("ChipAuthenticationPublicKeyInfo public key must be bytes")
        try:
            parsed = _SubjectPublicKeyInfo.load(self.public_key, strict=True)
            parsed.native  # noqa: B018 - forces a full parse
        except (ValueError, TypeError) as exc:
            raise SecurityInfoFormatError(
                "chip authentication public key is not a SubjectPublicKeyInfo"
            ) from exc
        _check_int("ChipAuthenticationPublicKeyInfo keyId", self.key_id, optional=True)


@dataclass(frozen=True)
class TerminalAuthenticationInfo:
    """TerminalAuthenticationInfo: id-TA, version 1 or 2 (the v1 fileId is not supported)."""

    version: int = 2

    protocol = ID_TA

    def __post_init__(self) -> None:
        if type(self.version) is not int or self.version not in (1, 2):
            raise SecurityInfoFormatError(
                f"TerminalAuthenticationInfo version must be 1 or 2, not {self.version!r}"
            )


@dataclass(frozen=True)
class ActiveAuthenticationInfo:
    """ICAO ActiveAuthenticationInfo: version 1 and the signature algorithm (ecdsa-with-SHA512 here)."""

    signature_algorithm: str = ECDSA_WITH_SHA512
    version: int = 1

    protocol = ID_AA

    def __post_init__(self) -> None:
        if self.version != 1 or type(self.version) is not int:
            raise SecurityInfoFormatError(f"ActiveAuthenticationInfo version must be 1, not {self.version!r}")
        _check_oid("ActiveAuthenticationInfo signatureAlgorithm", self.signature_algorithm)


@dataclass(frozen=True)
class UnknownSecurityInfo:
    """A SecurityInfo this module does not interpret, kept as its DER bytes."""

    protocol: str
    der: bytes

    def __post_init__(self) -> None:
        try:
            parsed = _RawSecurityInfo.load(bytes(self.der), strict=True)
            protocol = parsed["protocol"].dotted
        except (ValueError, TypeError, KeyError) as exc:
            raise SecurityInfoFormatError(f"opaque SecurityInfo {self.protocol} is not DER: {exc}") from exc
        if protocol != self.protocol:
            raise SecurityInfoFormatError(
                f"opaque SecurityInfo holds protocol {protocol}, not {self.protocol}"
            )


SecurityInfo = (
    PACEInfo
    | ChipAuthenticationInfo
    | ChipAuthenticationPublicKeyInfo
    | TerminalAuthenticationInfo
    | ActiveAuthenticationInfo
    | UnknownSecurityInfo
)


# --- encoding -----------------------------------------------------------------------------------------


def _int(value: int) -> core.Integer:
    return core.Integer(value)


def _raw(protocol: str, required: Any, optional: Any = None) -> bytes:
    fields: dict[str, Any] = {"protocol": protocol, "required_data": required}
    if optional is not None:
        fields["optional_data"] = optional
    return bytes(_RawSecurityInfo(fields).dump(force=True))


def _encode_one(info: SecurityInfo) -> bytes:
    if isinstance(info, PACEInfo):
        param = None if info.parameter_id is None else _int(info.parameter_id)
        return _raw(info.protocol, _int(info.version), param)
    if isinstance(info, ChipAuthenticationInfo):
        key_id = None if info.key_id is None else _int(info.key_id)
        return _raw(info.protocol, _int(info.version), key_id)
    if isinstance(info, ChipAuthenticationPublicKeyInfo):
        key_id = None if info.key_id is None else _int(info.key_id)
        return _raw(info.protocol, core.Any.load(info.public_key), key_id)
    if isinstance(info, TerminalAuthenticationInfo):
        return _raw(info.protocol, _int(info.version))
    if isinstance(info, ActiveAuthenticationInfo):
        return _raw(info.protocol, _int(info.version), core.ObjectIdentifier(info.signature_algorithm))
    if isinstance(info, UnknownSecurityInfo):
        return bytes(info.der)
    raise SecurityInfoFormatError(f"not a SecurityInfo: {type(info).__name__}")


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_security_infos(infos: Iterable[SecurityInfo]) -> bytes:
    """DER SecurityInfos: ``31 L`` followed by the SecurityInfo encodings in ascending order."""
    elements = sorted(_encode_one(info) for info in infos)
    body = b"".join(elements)
    return b"\x31" + _der_length(len(body)) + body


# --- decoding -----------------------------------------------------------------------------------------


def _as_int(value: Any, what: str) -> int:
    if not isinstance(value, core.Any):
        raise SecurityInfoFormatError(f"{what} missing")
    try:
        parsed = value.parse(core.Integer)
        number = parsed.native
    except (ValueError, TypeError) as exc:
        raise SecurityInfoFormatError(f"{what} is not an INTEGER") from exc
    if not isinstance(number, int):
        raise SecurityInfoFormatError(f"{what} is not an INTEGER")
    return number


def _optional(raw: Any) -> Any:
    value = raw["optional_data"]
    return None if isinstance(value, core.Void) else value


def _decode_one(raw: Any) -> SecurityInfo:
    protocol: str = raw["protocol"].dotted
    der = bytes(raw.dump())
    required = raw["required_data"]
    optional = _optional(raw)
    depth = protocol.count(".")
    if protocol.startswith(ID_PACE + ".") and depth == ID_PACE.count(".") + 2:
        param = None if optional is None else _as_int(optional, "PACEInfo parameterId")
        return PACEInfo(protocol, _as_int(required, "PACEInfo version"), param)
    if protocol.startswith(ID_CA + ".") and depth == ID_CA.count(".") + 2:
        key_id = None if optional is None else _as_int(optional, "ChipAuthenticationInfo keyId")
        return ChipAuthenticationInfo(protocol, _as_int(required, "ChipAuthenticationInfo version"), key_id)
    if protocol in (ID_PK_DH, ID_PK_ECDH):
        key_id = None if optional is None else _as_int(optional, "ChipAuthenticationPublicKeyInfo keyId")
        return ChipAuthenticationPublicKeyInfo(bytes(required.dump()), protocol, key_id)
    if protocol == ID_TA:
        if optional is not None:
            raise SecurityInfoFormatError("TerminalAuthenticationInfo fileId (TA v1) is not supported")
        return TerminalAuthenticationInfo(_as_int(required, "TerminalAuthenticationInfo version"))
    if protocol == ID_AA:
        if optional is None:
            raise SecurityInfoFormatError("ActiveAuthenticationInfo without signatureAlgorithm")
        try:
            algorithm = optional.parse(core.ObjectIdentifier).dotted
        except (ValueError, TypeError) as exc:
            raise SecurityInfoFormatError(
                "ActiveAuthenticationInfo signatureAlgorithm is not an OID"
            ) from exc
        return ActiveAuthenticationInfo(algorithm, _as_int(required, "ActiveAuthenticationInfo version"))
    return UnknownSecurityInfo(protocol, der)


def decode_security_infos(data: bytes) -> list[SecurityInfo]:
    """Decode DER/BER SecurityInfos, in the order of the encoding."""
    try:
        parsed = _RawSecurityInfos.load(bytes(data), strict=True)
        items = list(parsed)
        for item in items:
            item["protocol"].dotted  # noqa: B018 - forces parsing of every element
    except (ValueError, TypeError, KeyError) as exc:
        raise SecurityInfoFormatError(f"not a SecurityInfos SET: {exc}") from exc
    return [_decode_one(item) for item in items]
