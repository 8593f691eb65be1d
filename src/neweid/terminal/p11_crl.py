"""CRL parsing and searching of the citizen-certificate library (table 11 "CRL 解析", PKI-3): DER2CRL,
VerifyCRLsignature, the CRL field getters and CRLSearchCert / CRLSearchSN, as pure functions over
:class:`cryptography.x509.CertificateRevocationList`.

Applications may prefer CRLs to OCSP so that no usage trail reaches MOI (PKI-3): everything here works
offline on a CRL the application downloaded itself.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import ExtensionOID

from neweid.terminal.p11_cert import get_cert_public_key, verify_signed_by
from neweid.terminal.p11_errors import CertificateParseError, Ckr, P11Error, SignatureInvalidError

__all__ = [
    "RevokedEntry",
    "crl_search_cert",
    "crl_search_sn",
    "der_to_crl",
    "get_crl_authority_key_identifier",
    "get_crl_issuer_dn",
    "get_crl_number",
    "get_crl_revoked_cert",
    "get_crl_revoked_count",
    "get_crl_signature_algorithm",
    "get_delta_crl_indicator",
    "get_freshest_crl",
    "get_next_update",
    "get_this_update",
    "verify_crl_signature",
]


@dataclass(frozen=True)
class RevokedEntry:
    """One entry of a CRL: serial number, revocation time (UTC) and the reason code's name (RFC 5280
    CRLReason, e.g. ``"key_compromise"``, ``"certificate_hold"`` for a suspension) when present."""

    serial_number: int
    revocation_date: datetime.datetime
    reason: str | None


def der_to_crl(data: bytes) -> x509.CertificateRevocationList:
    """DER2CRL: a CRL from DER (or PEM) bytes. FreeCRL has no counterpart: the CRL is a value."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except (ValueError, TypeError) as exc:
        raise CertificateParseError("CRL", str(exc)) from exc


def verify_crl_signature(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> None:
    """VerifyCRLsignature: checks that ``issuer`` signed the CRL (names and signature); raises
    :class:`SignatureInvalidError`."""
    if crl.issuer != issuer.subject:
        raise SignatureInvalidError("the CRL issuer name does not match the issuer certificate; the CRL")
    try:
        algorithm = crl.signature_hash_algorithm
    except UnsupportedAlgorithm as exc:
        raise SignatureInvalidError(f"the CRL signature ({exc})") from exc
    verify_signed_by(crl.signature, crl.tbs_certlist_bytes, algorithm, get_cert_public_key(issuer),
                     "the CRL signature")


def get_crl_issuer_dn(crl: x509.CertificateRevocationList) -> str:
    """GetCRLIsseurDN (sic in the report): the issuer as an RFC 4514 string."""
    return crl.issuer.rfc4514_string()


def get_this_update(crl: x509.CertificateRevocationList) -> datetime.datetime:
    """GetThisUpdate (aware, UTC)."""
    return crl.last_update_utc


def get_next_update(crl: x509.CertificateRevocationList) -> datetime.datetime | None:
    """GetNextUpdate (aware, UTC), None when the CRL has none."""
    return crl.next_update_utc


def get_crl_signature_algorithm(crl: x509.CertificateRevocationList) -> str:
    """GetCRLSignatureAlgorithm: the dotted OID."""
    return crl.signature_algorithm_oid.dotted_string


def _extension(crl: x509.CertificateRevocationList,
               oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType] | None:
    try:
        return crl.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
    except (ValueError, x509.DuplicateExtension) as exc:
        raise CertificateParseError("CRL extensions", str(exc)) from exc


def get_crl_authority_key_identifier(crl: x509.CertificateRevocationList) -> bytes | None:
    """GetCRLAuthorityKeyIdentifier."""
    ext = _extension(crl, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if ext is None or not isinstance(ext.value, x509.AuthorityKeyIdentifier):
        return None
    return ext.value.key_identifier


def get_crl_number(crl: x509.CertificateRevocationList) -> int | None:
    """GetCRLNumber."""
    ext = _extension(crl, ExtensionOID.CRL_NUMBER)
    if ext is None or not isinstance(ext.value, x509.CRLNumber):
        return None
    return ext.value.crl_number


def get_delta_crl_indicator(crl: x509.CertificateRevocationList) -> int | None:
    """GetDeltaCRLIndicator: the base CRL number of a delta CRL, None for a full CRL."""
    ext = _extension(crl, ExtensionOID.DELTA_CRL_INDICATOR)
    if ext is None or not isinstance(ext.value, x509.DeltaCRLIndicator):
        return None
    return ext.value.crl_number


def get_freshest_crl(crl: x509.CertificateRevocationList) -> list[str]:
    """GetFreshestCRL: the URIs where the delta CRLs are published."""
    ext = _extension(crl, ExtensionOID.FRESHEST_CRL)
    if ext is None or not isinstance(ext.value, x509.FreshestCRL):
        return []
    return [name.value for point in ext.value for name in point.full_name or ()
            if isinstance(name, x509.UniformResourceIdentifier)]


def _entry(revoked: x509.RevokedCertificate) -> RevokedEntry:
    reason: str | None = None
    try:
        ext = revoked.extensions.get_extension_for_oid(x509.oid.CRLEntryExtensionOID.CRL_REASON)
        if isinstance(ext.value, x509.CRLReason):
            reason = ext.value.reason.name
    except x509.ExtensionNotFound:
        pass
    except (ValueError, x509.DuplicateExtension) as exc:
        raise CertificateParseError("CRL entry", str(exc)) from exc
    return RevokedEntry(revoked.serial_number, revoked.revocation_date_utc, reason)


def crl_search_sn(crl: x509.CertificateRevocationList, serial_number: int) -> RevokedEntry | None:
    """CRLSearchSN: the CRL entry of ``serial_number``, None when it is not listed."""
    if serial_number < 0:
        raise P11Error(Ckr.ARGUMENTS_BAD, "a certificate serial number is not negative")
    revoked = crl.get_revoked_certificate_by_serial_number(serial_number)
    return None if revoked is None else _entry(revoked)


def crl_search_cert(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> RevokedEntry | None:
    """CRLSearchCert: the entry of ``cert`` when the CRL (of the same issuer) lists it, else None."""
    if cert.issuer != crl.issuer:
        raise P11Error(Ckr.ARGUMENTS_BAD, "the certificate was not issued by the CRL's issuer")
    return crl_search_sn(crl, cert.serial_number)


def get_crl_revoked_count(crl: x509.CertificateRevocationList) -> int:
    """The number of entries (to iterate with :func:`get_crl_revoked_cert`)."""
    return len(crl)


def get_crl_revoked_cert(crl: x509.CertificateRevocationList, index: int) -> RevokedEntry:
    """GetCRLRevokedCert: the entry at ``index`` (0-based)."""
    if not 0 <= index < len(crl):
        raise P11Error(Ckr.ARGUMENTS_BAD, f"the CRL has {len(crl)} entries, no entry {index}")
    return _entry(crl[index])
