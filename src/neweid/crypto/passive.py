"""Passive Authentication (ICAO 9303-11 §5.1, TR-03110-1): verify a zone's security object on the host.

Pure: the caller passes the EF.SOD bytes, the data-group files it read, the CSCA certificates it trusts
and the time of the check. Steps, each failing with its own :class:`PassiveAuthenticationError`:

1. parse the CMS SignedData (``MALFORMED``); an ICAO ``77`` wrapper around the ContentInfo is accepted;
2. find the Document Signer certificate of the SignerInfo (in the SignedData or among
   ``document_signers``) and check it was issued by a trust anchor: issuer name, signature, and the
   anchor is a CA allowed to sign certificates (``UNKNOWN_SIGNER``);
3. both certificates are valid at ``at`` (``EXPIRED``);
4. the SignerInfo signature over the signed attributes, the messageDigest over the eContent and the
   contentType attribute (``BAD_SIGNATURE``);
5. every data group passed in has the hash the LDSSecurityObject lists (``HASH_MISMATCH``, naming the
   DG; a DG the security object does not list fails the same way). DGs that the security object lists but
   that were not passed in are reported in :attr:`PassiveAuthResult.missing_data_groups`.
"""

from __future__ import annotations

import datetime
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.errors import CryptoError
from neweid.formats.security_infos import SecurityInfo, SecurityInfoFormatError, decode_security_infos
from neweid.formats.security_object import (
    ID_LDS_SECURITY_OBJECT,
    ID_SECURITY_OBJECT,
    HashAlgorithm,
    LdsSecurityObject,
    SecurityObjectFormatError,
)

__all__ = [
    "BadSignatureError",
    "CardSecurityResult",
    "ExpiredError",
    "HashMismatchError",
    "MalformedSecurityObjectError",
    "PassiveAuthReason",
    "PassiveAuthResult",
    "PassiveAuthenticationError",
    "SignedContent",
    "UnknownSignerError",
    "read_card_security_infos",
    "read_lds_security_object",
    "verify_card_security",
    "verify_signed_data",
    "verify_zone",
]

_log = logging.getLogger(__name__)


class PassiveAuthReason(StrEnum):
    UNKNOWN_SIGNER = "unknown_signer"
    BAD_SIGNATURE = "bad_signature"
    HASH_MISMATCH = "hash_mismatch"
    EXPIRED = "expired"
    MALFORMED = "malformed"


class PassiveAuthenticationError(CryptoError):
    """Passive Authentication failed; ``reason`` says why."""

    reason: PassiveAuthReason = PassiveAuthReason.MALFORMED


class UnknownSignerError(PassiveAuthenticationError):
    reason = PassiveAuthReason.UNKNOWN_SIGNER


class BadSignatureError(PassiveAuthenticationError):
    reason = PassiveAuthReason.BAD_SIGNATURE


class ExpiredError(PassiveAuthenticationError):
    reason = PassiveAuthReason.EXPIRED


class MalformedSecurityObjectError(PassiveAuthenticationError):
    reason = PassiveAuthReason.MALFORMED


class HashMismatchError(PassiveAuthenticationError):
    """A data group does not match the security object; ``data_group`` is its number."""

    reason = PassiveAuthReason.HASH_MISMATCH

    def __init__(self, data_group: int, message: str) -> None:
        super().__init__(f"DG{data_group}: {message}")
        self.data_group = data_group


@dataclass(frozen=True)
class SignedContent:
    """The verified content of a SignedData and who signed it."""

    content_type: str
    content: bytes
    signer_certificate: x509.Certificate
    csca_certificate: x509.Certificate
    signing_time: datetime.datetime | None


@dataclass(frozen=True)
class PassiveAuthResult:
    checked_data_groups: tuple[int, ...]
    missing_data_groups: tuple[int, ...]  # listed in the security object but not passed in
    hash_algorithm: HashAlgorithm
    signer_subject: str  # RFC 4514
    csca_subject: str
    signer_certificate: x509.Certificate
    signing_time: datetime.datetime | None

    @property
    def complete(self) -> bool:
        """Every data group the security object lists was checked."""
        return not self.missing_data_groups


@dataclass(frozen=True)
class CardSecurityResult:
    security_infos: tuple[SecurityInfo, ...]
    signer_subject: str
    csca_subject: str


# --- parsing -----------------------------------------------------------------------------------------


def _unwrap_icao(sod: bytes) -> bytes:
    """Strip an ICAO EF.SOD ``77 L`` wrapper if present."""
    if len(sod) < 2 or sod[0] != 0x77:
        return sod
    first = sod[1]
    if first < 0x80:
        start, length = 2, first
    else:
        count = first & 0x7F
        if not 1 <= count <= 3 or len(sod) < 2 + count:
            raise MalformedSecurityObjectError("bad length of the 77 wrapper")
        start, length = 2 + count, int.from_bytes(sod[2 : 2 + count], "big")
    if start + length != len(sod):
        raise MalformedSecurityObjectError("the 77 wrapper's length does not match the data")
    return sod[start:]


def _parse_signed_data(sod: bytes) -> Any:
    if not isinstance(sod, bytes | bytearray):
        raise MalformedSecurityObjectError("the security object must be bytes")
    try:
        info = cms.ContentInfo.load(_unwrap_icao(bytes(sod)), strict=True)
        if info["content_type"].native != "signed_data":
            raise MalformedSecurityObjectError("not a CMS SignedData")
        signed = info["content"]
        signed.native  # noqa: B018 - forces a full parse of every field
    except MalformedSecurityObjectError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise MalformedSecurityObjectError(f"not a DER CMS ContentInfo: {exc}") from exc
    if len(signed["signer_infos"]) != 1:
        raise MalformedSecurityObjectError("exactly one SignerInfo expected")
    if not isinstance(signed["encap_content_info"]["content"].native, bytes):
        raise MalformedSecurityObjectError("the SignedData carries no eContent")
    return signed


def _certificates(signed: Any) -> list[x509.Certificate]:
    out = []
    for choice in signed["certificates"]:
        if choice.name != "certificate":
            continue
        try:
            out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError as exc:
            raise MalformedSecurityObjectError("an embedded certificate cannot be parsed") from exc
    return out


def _matches_sid(cert: x509.Certificate, sid: Any) -> bool:
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"].dump()
        serial = sid.chosen["serial_number"].native
        return bool(cert.serial_number == serial and cert.issuer.public_bytes() == issuer)
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return False
    return bool(ski == sid.chosen.native)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca:
        return False
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(usage.key_cert_sign)


def _issuing_anchor(ds: x509.Certificate, anchors: Sequence[x509.Certificate]) -> x509.Certificate:
    for anchor in anchors:
        if anchor.subject != ds.issuer or not _is_ca(anchor):
            continue
        try:
            ds.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return anchor
    raise UnknownSignerError(
        f"Document Signer {ds.subject.rfc4514_string()} is not issued by any trusted CSCA"
    )


def _check_validity(cert: x509.Certificate, at: datetime.datetime, what: str) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        subject = cert.subject.rfc4514_string()
        raise ExpiredError(f"{what} certificate {subject} is not valid at {at:%Y-%m-%d %H:%M:%S}")


_SIGNATURE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256_ecdsa": hashes.SHA256,
    "sha384_ecdsa": hashes.SHA384,
    "sha512_ecdsa": hashes.SHA512,
}


def _verify_signer_info(signer_info: Any, signed: Any, ds: x509.Certificate) -> datetime.datetime | None:
    content_type = signed["encap_content_info"]["content_type"].dotted
    content = signed["encap_content_info"]["content"].native
    try:
        digest_algorithm = HashAlgorithm(signer_info["digest_algorithm"]["algorithm"].native)
    except ValueError as exc:
        raise MalformedSecurityObjectError("unsupported digest algorithm") from exc
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void) or len(signed_attrs) == 0:
        raise MalformedSecurityObjectError("the SignerInfo has no signed attributes")
    attributes: dict[str, Any] = {}
    for attribute in signed_attrs:
        name = attribute["type"].native
        if name in attributes or len(attribute["values"]) != 1:
            raise MalformedSecurityObjectError(f"signed attribute {name} must occur once with one value")
        attributes[name] = attribute["values"][0]
    if "content_type" not in attributes or "message_digest" not in attributes:
        raise MalformedSecurityObjectError("contentType or messageDigest signed attribute missing")

    algorithm = signer_info["signature_algorithm"]["algorithm"].native
    hash_type = _SIGNATURE_HASHES.get(algorithm)
    if hash_type is None:
        raise MalformedSecurityObjectError(f"unsupported signature algorithm {algorithm}")
    public_key = ds.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise MalformedSecurityObjectError("the Document Signer key is not an EC key")
    # The signature covers the attributes as received, with the [0] tag replaced by SET OF (RFC 5652 5.4).
    signed_bytes = b"\x31" + bytes(signed_attrs.dump())[1:]
    try:
        public_key.verify(signer_info["signature"].native, signed_bytes, ec.ECDSA(hash_type()))
    except InvalidSignature as exc:
        raise BadSignatureError("the SignerInfo signature does not verify") from exc

    if attributes["content_type"].dotted != content_type:
        raise BadSignatureError("the signed contentType differs from the eContentType")
    if not hmac.compare_digest(attributes["message_digest"].native, digest_algorithm.digest(content)):
        raise BadSignatureError("the signed messageDigest does not match the eContent")
    signing_time = attributes.get("signing_time")
    return None if signing_time is None else signing_time.native


def verify_signed_data(
    sod: bytes,
    trust_anchors: Sequence[x509.Certificate],
    *,
    at: datetime.datetime,
    document_signers: Sequence[x509.Certificate] = (),
) -> SignedContent:
    """Verify a CMS SignedData as a Document Signer's (steps 1-4) and return its content."""
    if not isinstance(at, datetime.datetime) or at.tzinfo is None:
        raise MalformedSecurityObjectError("the time of the check must be a timezone-aware datetime")
    signed = _parse_signed_data(sod)
    signer_info = signed["signer_infos"][0]
    sid = signer_info["sid"]
    candidates = [c for c in (*_certificates(signed), *document_signers) if _matches_sid(c, sid)]
    if not candidates:
        raise UnknownSignerError("the Document Signer certificate is neither in the SignedData nor given")
    ds = candidates[0]
    csca = _issuing_anchor(ds, trust_anchors)
    _check_validity(ds, at, "Document Signer")
    _check_validity(csca, at, "CSCA")
    try:
        usage = ds.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            raise UnknownSignerError("the signer's certificate does not allow digital signatures")
    except x509.ExtensionNotFound:
        pass
    signing_time = _verify_signer_info(signer_info, signed, ds)
    return SignedContent(
        signed["encap_content_info"]["content_type"].dotted,
        bytes(signed["encap_content_info"]["content"].native),
        ds,
        csca,
        signing_time,
    )


def read_lds_security_object(sod: bytes) -> LdsSecurityObject:
    """The LDSSecurityObject of a zone security object, WITHOUT verifying anything (e.g. to learn which
    data groups to read before :func:`verify_zone`)."""
    signed = _parse_signed_data(sod)
    if signed["encap_content_info"]["content_type"].dotted != ID_LDS_SECURITY_OBJECT:
        raise MalformedSecurityObjectError("eContentType is not id-icao-mrtd-security-ldsSecurityObject")
    try:
        return LdsSecurityObject.decode(signed["encap_content_info"]["content"].native)
    except SecurityObjectFormatError as exc:
        raise MalformedSecurityObjectError(str(exc)) from exc


def read_card_security_infos(card_security: bytes) -> list[SecurityInfo]:
    """The SecurityInfos of EF.CardSecurity, WITHOUT verifying anything."""
    signed = _parse_signed_data(card_security)
    if signed["encap_content_info"]["content_type"].dotted != ID_SECURITY_OBJECT:
        raise MalformedSecurityObjectError("eContentType is not id-SecurityObject")
    try:
        return decode_security_infos(signed["encap_content_info"]["content"].native)
    except SecurityInfoFormatError as exc:
        raise MalformedSecurityObjectError(str(exc)) from exc


def verify_zone(
    sod: bytes,
    data_groups: Mapping[int, bytes],
    trust_anchors: Sequence[x509.Certificate],
    *,
    at: datetime.datetime,
    document_signers: Sequence[x509.Certificate] = (),
) -> PassiveAuthResult:
    """Passive Authentication of one zone: ``sod`` is its EF.SOD, ``data_groups`` the DG files read
    (number → complete file bytes), ``trust_anchors`` the CSCA certificates, ``at`` the time of the check."""
    signed = verify_signed_data(sod, trust_anchors, at=at, document_signers=document_signers)
    if signed.content_type != ID_LDS_SECURITY_OBJECT:
        raise MalformedSecurityObjectError("eContentType is not id-icao-mrtd-security-ldsSecurityObject")
    try:
        lds = LdsSecurityObject.decode(signed.content)
    except SecurityObjectFormatError as exc:
        raise MalformedSecurityObjectError(str(exc)) from exc
    expected = lds.as_dict()
    for number in sorted(data_groups):
        value = data_groups[number]
        if not isinstance(value, bytes | bytearray):
            raise MalformedSecurityObjectError(f"DG{number} must be bytes")
        if number not in expected:
            raise HashMismatchError(number, "not covered by the security object")
        if not hmac.compare_digest(expected[number], lds.hash_algorithm.digest(bytes(value))):
            raise HashMismatchError(number, "hash differs from the security object")
    missing = tuple(sorted(set(expected) - set(data_groups)))
    result = PassiveAuthResult(
        checked_data_groups=tuple(sorted(data_groups)),
        missing_data_groups=missing,
        hash_algorithm=lds.hash_algorithm,
        signer_subject=signed.signer_certificate.subject.rfc4514_string(),
        csca_subject=signed.csca_certificate.subject.rfc4514_string(),
        signer_certificate=signed.signer_certificate,
        signing_time=signed.signing_time,
    )
    _log.info("passive authentication passed for DGs %s (missing %s)", result.checked_data_groups, missing)
    return result


def verify_card_security(
    card_security: bytes,
    trust_anchors: Sequence[x509.Certificate],
    *,
    at: datetime.datetime,
    document_signers: Sequence[x509.Certificate] = (),
) -> CardSecurityResult:
    """Verify EF.CardSecurity and return its SecurityInfos."""
    signed = verify_signed_data(card_security, trust_anchors, at=at, document_signers=document_signers)
    if signed.content_type != ID_SECURITY_OBJECT:
        raise MalformedSecurityObjectError("eContentType is not id-SecurityObject")
    try:
        infos = decode_security_infos(signed.content)
    except SecurityInfoFormatError as exc:
        raise MalformedSecurityObjectError(str(exc)) from exc
    return CardSecurityResult(
        tuple(infos),
        signed.signer_certificate.subject.rfc4514_string(),
        signed.csca_certificate.subject.rfc4514_string(),
    )
