"""Certificate parsing of the citizen-certificate library (table 11 "憑證解析", API-3): the report's
certificate field getters (DER2Cert, GetSubjectDN, GetNotAfter, IsKeyUsageEncipherment,
GetTailOfCitizenID, ...) as pure functions over :class:`cryptography.x509.Certificate`.

Getters answer ``None`` (or an empty list) when the certificate lacks the field; malformed input raises
:class:`~neweid.terminal.p11_errors.CertificateParseError`, a failed signature check
:class:`~neweid.terminal.p11_errors.SignatureInvalidError`.

subjectDirectoryAttributes (RFC 5280 §4.2.1.8) carry the MOICA attributes the report names (subject
type, holder rank, last 4 digits of the ID number, entity OID, uniform organisation ID, certificate type,
UID, card number). Their attribute types are looked up in a :class:`SubjectDirectoryTypes` table: the
defaults are **placeholders** (see the class) until MOI publishes the profile's OIDs; pass the real
table when you have it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import core
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from neweid.terminal.p11_errors import CertificateParseError, SignatureInvalidError

__all__ = [
    "AttributeValue",
    "SubjectDirectoryTypes",
    "cert_to_der",
    "der_to_cert",
    "get_authority_info_access",
    "get_ca_issuers",
    "get_card_id",
    "get_cert_authority_key_identifier",
    "get_cert_policy_oids",
    "get_cert_public_key",
    "get_cert_serial_number",
    "get_cert_signature_algorithm",
    "get_cert_type_id",
    "get_crl_distribution_points",
    "get_entity_oid",
    "get_extension_der",
    "get_issuer_dn",
    "get_key_usage",
    "get_not_after",
    "get_not_before",
    "get_ocsp",
    "get_subject_alt_name",
    "get_subject_directory_attribute",
    "get_subject_directory_attributes",
    "get_subject_dn",
    "get_subject_holder_rank",
    "get_subject_key_identifier",
    "get_subject_type_oid",
    "get_tail_of_citizen_id",
    "get_uid",
    "get_uniform_organization_id",
    "is_key_usage_encipherment",
    "is_key_usage_key_agreement",
    "p7b_to_certs",
    "verify_cert",
]

#: A decoded attribute value: text for string types, the dotted OID for an OBJECT IDENTIFIER, an int
#: for an INTEGER, the DER bytes of anything else.
AttributeValue = str | int | bytes

#: This library's own placeholder arc (ITU-T X.667 UUID OID: unique without registration).
API_PLACEHOLDER_ARC = "2.25.5454365730845787537156562357343992254"
#: The citizen-CA profile's placeholder arc (neweid.pki.ca.oids.NEWEID_PRIVATE_ARC): the card serial
#: attribute the project's citizen CA writes. Duplicated here because the terminal must not import pki.
_CITIZEN_CA_ARC = "2.25.268764210546003727127940490235526776456"


@dataclass(frozen=True)
class SubjectDirectoryTypes:
    """Attribute types (dotted OIDs) of the subjectDirectoryAttributes that table 11's getters read.

    ``card_id`` is the New eID card serial attribute of the project's citizen-certificate profile; the
    other defaults are placeholders under :data:`API_PLACEHOLDER_ARC` standing in for MOICA's (not
    published in the project's sources)."""

    subject_type: str = f"{API_PLACEHOLDER_ARC}.1.1"
    holder_rank: str = f"{API_PLACEHOLDER_ARC}.1.2"
    tail_of_citizen_id: str = f"{API_PLACEHOLDER_ARC}.1.3"
    entity_oid: str = f"{API_PLACEHOLDER_ARC}.1.4"
    uniform_organization_id: str = f"{API_PLACEHOLDER_ARC}.1.5"
    cert_type_id: str = f"{API_PLACEHOLDER_ARC}.1.6"
    uid: str = f"{API_PLACEHOLDER_ARC}.1.7"
    card_id: str = f"{_CITIZEN_CA_ARC}.1.1"


DEFAULT_TYPES = SubjectDirectoryTypes()


class _Values(core.SetOf):  # type: ignore[misc]
    _child_spec = core.Any


class _Attribute(core.Sequence):  # type: ignore[misc]
    _fields = [("type", core.ObjectIdentifier), ("values", _Values)]  # noqa: RUF012 - asn1crypto API


class _Attributes(core.SequenceOf):  # type: ignore[misc]
    _child_spec = _Attribute


_STRING_TAGS = {12: "utf-8", 19: "ascii", 22: "ascii", 20: "latin-1", 30: "utf-16-be", 26: "ascii"}
_OID_TAG, _INTEGER_TAG = 6, 2


# -- parsing and encoding ------------------------------------------------------------------------------
def der_to_cert(data: bytes) -> x509.Certificate:
    """DER2Cert: a certificate from DER (or PEM) bytes."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (ValueError, TypeError) as exc:
        raise CertificateParseError("certificate", str(exc)) from exc


def cert_to_der(cert: x509.Certificate) -> bytes:
    """Cert2DER: the certificate's DER encoding."""
    return cert.public_bytes(serialization.Encoding.DER)


def p7b_to_certs(data: bytes) -> list[x509.Certificate]:
    """P7B2Cert: the certificates of a PKCS#7 (CMS SignedData) certificate list, DER or PEM."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return pkcs7.load_pem_pkcs7_certificates(data)
        return pkcs7.load_der_pkcs7_certificates(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertificateParseError("PKCS#7 certificate list", str(exc)) from exc


# -- keys and signatures ---------------------------------------------------------------------------------
def get_cert_public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes:
    """GetCertPublicKey."""
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateParseError("certificate's public key", str(exc)) from exc


def verify_signed_by(signature: bytes, tbs: bytes, hash_algorithm: object, issuer_key: object,
                     what: str) -> None:
    """Check an X.509 signature (certificate or CRL) with the issuer's public key; raises
    :class:`SignatureInvalidError`."""
    try:
        if isinstance(issuer_key, rsa.RSAPublicKey) and hash_algorithm is not None:
            issuer_key.verify(signature, tbs, padding.PKCS1v15(), hash_algorithm)  # type: ignore[arg-type]
        elif isinstance(issuer_key, ec.EllipticCurvePublicKey) and hash_algorithm is not None:
            issuer_key.verify(signature, tbs, ec.ECDSA(hash_algorithm))  # type: ignore[arg-type]
        elif isinstance(issuer_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            issuer_key.verify(signature, tbs)
        elif isinstance(issuer_key, dsa.DSAPublicKey) and hash_algorithm is not None:
            issuer_key.verify(signature, tbs, hash_algorithm)  # type: ignore[arg-type]
        else:
            raise SignatureInvalidError(f"{what} (unsupported issuer key or algorithm)")
    except InvalidSignature as exc:
        raise SignatureInvalidError(what) from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SignatureInvalidError(f"{what} ({exc})") from exc


def verify_cert(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """VerifyCert: checks that ``issuer`` signed ``cert`` (names and signature); raises
    :class:`SignatureInvalidError`. Validity and revocation are separate checks (GetNotAfter, CRL, OCSP)."""
    if cert.issuer != issuer.subject:
        raise SignatureInvalidError("the certificate's issuer name does not match the issuer certificate; "
                                    "the signature")
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm as exc:
        raise SignatureInvalidError(f"the certificate signature ({exc})") from exc
    verify_signed_by(cert.signature, cert.tbs_certificate_bytes, algorithm, get_cert_public_key(issuer),
                     "the certificate signature")


def get_cert_signature_algorithm(cert: x509.Certificate) -> str:
    """GetCertSignatureAlgorithm: the dotted OID of the certificate's signature algorithm."""
    return cert.signature_algorithm_oid.dotted_string


# -- names, serial, validity -------------------------------------------------------------------------------
def get_cert_serial_number(cert: x509.Certificate) -> int:
    """GetCertSerialNumber."""
    return cert.serial_number


def get_subject_dn(cert: x509.Certificate) -> str:
    """GetSubjectDN, as an RFC 4514 string."""
    return cert.subject.rfc4514_string()


def get_issuer_dn(cert: x509.Certificate) -> str:
    """GetIssuerDN, as an RFC 4514 string."""
    return cert.issuer.rfc4514_string()


def get_not_before(cert: x509.Certificate) -> datetime.datetime:
    """GetNotBefore (aware, UTC)."""
    return cert.not_valid_before_utc


def get_not_after(cert: x509.Certificate) -> datetime.datetime:
    """GetNotAfter (aware, UTC)."""
    return cert.not_valid_after_utc


# -- extensions -----------------------------------------------------------------------------------------
def _extension(cert: x509.Certificate,
               oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType] | None:
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
    except (ValueError, x509.DuplicateExtension) as exc:
        raise CertificateParseError("certificate extensions", str(exc)) from exc


def get_extension_der(cert: x509.Certificate, oid: str) -> bytes | None:
    """GetExtensionDER: the DER ``extnValue`` contents of the extension ``oid`` (dotted), or None."""
    try:
        ext = _extension(cert, x509.ObjectIdentifier(oid))
    except ValueError as exc:
        raise CertificateParseError("extension OID", str(exc)) from exc
    if ext is None:
        return None
    return ext.value.public_bytes()


def get_subject_alt_name(cert: x509.Certificate) -> list[str]:
    """GetSubjectAltName: the e-mail addresses (rfc822Name) of subjectAltName."""
    ext = _extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if ext is None or not isinstance(ext.value, x509.SubjectAlternativeName):
        return []
    return list(ext.value.get_values_for_type(x509.RFC822Name))


_KEY_USAGE_NAMES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                    "key_agreement", "key_cert_sign", "crl_sign")


def get_key_usage(cert: x509.Certificate) -> frozenset[str]:
    """GetKeyUsage: the key usage bits set (names of :class:`cryptography.x509.KeyUsage`, plus
    ``encipher_only`` / ``decipher_only``); empty when the extension is absent."""
    ext = _extension(cert, ExtensionOID.KEY_USAGE)
    if ext is None or not isinstance(ext.value, x509.KeyUsage):
        return frozenset()
    usage = ext.value
    names = {name for name in _KEY_USAGE_NAMES if getattr(usage, name)}
    if usage.key_agreement:
        names |= {name for name in ("encipher_only", "decipher_only") if getattr(usage, name)}
    return frozenset(names)


def is_key_usage_encipherment(cert: x509.Certificate) -> bool:
    """IsKeyUsageEncipherment: key or data encipherment allowed."""
    return bool(get_key_usage(cert) & {"key_encipherment", "data_encipherment"})


def is_key_usage_key_agreement(cert: x509.Certificate) -> bool:
    """IsKeyUsageKeyAgreement."""
    return "key_agreement" in get_key_usage(cert)


def _uris(names: Sequence[x509.GeneralName] | None) -> list[str]:
    return [name.value for name in names or () if isinstance(name, x509.UniformResourceIdentifier)]


def get_crl_distribution_points(cert: x509.Certificate) -> list[str]:
    """GetCRLDistributionPoint: the URIs of cRLDistributionPoints."""
    ext = _extension(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if ext is None or not isinstance(ext.value, x509.CRLDistributionPoints):
        return []
    return [uri for point in ext.value for uri in _uris(point.full_name)]


def get_authority_info_access(cert: x509.Certificate) -> list[tuple[str, str]]:
    """GetAuthorityInfoAccess: (access method OID, URI) pairs."""
    ext = _extension(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if ext is None or not isinstance(ext.value, x509.AuthorityInformationAccess):
        return []
    return [(desc.access_method.dotted_string, desc.access_location.value) for desc in ext.value
            if isinstance(desc.access_location, x509.UniformResourceIdentifier)]


def get_ca_issuers(cert: x509.Certificate) -> list[str]:
    """GetCAIssuers: the caIssuers URIs of authorityInfoAccess."""
    method = AuthorityInformationAccessOID.CA_ISSUERS.dotted_string
    return [uri for oid, uri in get_authority_info_access(cert) if oid == method]


def get_ocsp(cert: x509.Certificate) -> list[str]:
    """GetOCSP: the OCSP responder URIs of authorityInfoAccess."""
    method = AuthorityInformationAccessOID.OCSP.dotted_string
    return [uri for oid, uri in get_authority_info_access(cert) if oid == method]


def get_cert_authority_key_identifier(cert: x509.Certificate) -> bytes | None:
    """GetCertAuthorityKeyIdentifier: the keyIdentifier of authorityKeyIdentifier."""
    ext = _extension(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if ext is None or not isinstance(ext.value, x509.AuthorityKeyIdentifier):
        return None
    return ext.value.key_identifier


def get_subject_key_identifier(cert: x509.Certificate) -> bytes | None:
    """GetSubjectKeyIdentifier."""
    ext = _extension(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    if ext is None or not isinstance(ext.value, x509.SubjectKeyIdentifier):
        return None
    return ext.value.digest


def get_cert_policy_oids(cert: x509.Certificate) -> list[str]:
    """GetCertPolicyOID: the policy identifiers of certificatePolicies."""
    ext = _extension(cert, ExtensionOID.CERTIFICATE_POLICIES)
    if ext is None or not isinstance(ext.value, x509.CertificatePolicies):
        return []
    return [policy.policy_identifier.dotted_string for policy in ext.value]


# -- subjectDirectoryAttributes ------------------------------------------------------------------------
def _decode_value(value: core.Any) -> AttributeValue:
    der = value.dump()
    tag = der[0] & 0x1F
    try:
        contents = value.parse().contents
        if der[0] in (0x0C, 0x13, 0x16, 0x14, 0x1E, 0x1A):
            return bytes(contents).decode(_STRING_TAGS[tag])
        if der[0] == _OID_TAG:
            return str(core.ObjectIdentifier.load(der).dotted)
        if der[0] == _INTEGER_TAG:
            return int(core.Integer.load(der).native)
    except (ValueError, UnicodeDecodeError, KeyError) as exc:
        raise CertificateParseError("subjectDirectoryAttributes value", str(exc)) from exc
    return bytes(der)


def get_subject_directory_attributes(cert: x509.Certificate) -> dict[str, list[AttributeValue]]:
    """GetSubjectDirectoryAttribute: every attribute of subjectDirectoryAttributes by dotted type."""
    ext = _extension(cert, ExtensionOID.SUBJECT_DIRECTORY_ATTRIBUTES)
    if ext is None:
        return {}
    try:
        attributes = _Attributes.load(ext.value.public_bytes())
        result: dict[str, list[AttributeValue]] = {}
        for attribute in attributes:
            values = [_decode_value(v) for v in attribute["values"]]
            result.setdefault(attribute["type"].dotted, []).extend(values)
    except ValueError as exc:
        raise CertificateParseError("subjectDirectoryAttributes", str(exc)) from exc
    return result


def get_subject_directory_attribute(cert: x509.Certificate, oid: str) -> AttributeValue | None:
    """The first value of the subjectDirectoryAttributes attribute ``oid`` (dotted), or None."""
    values = get_subject_directory_attributes(cert).get(oid)
    return values[0] if values else None


def _text(cert: x509.Certificate, oid: str) -> str | None:
    value = get_subject_directory_attribute(cert, oid)
    if value is None:
        return None
    if isinstance(value, bytes):
        raise CertificateParseError("subjectDirectoryAttributes", f"attribute {oid} is not a string")
    return str(value)


def get_subject_type_oid(cert: x509.Certificate, types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetSubjectTypeOID: subjectType (the OID of the kind of subject)."""
    return _text(cert, types.subject_type)


def get_subject_holder_rank(cert: x509.Certificate,
                            types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetSubjectHolderRank: HolderRank (正附卡別, primary or secondary card)."""
    return _text(cert, types.holder_rank)


def get_tail_of_citizen_id(cert: x509.Certificate,
                           types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetTailOfCitizenID: the last 4 characters of the holder's ID number (PKI-2): the
    subjectDirectoryAttributes attribute when present, else the subject's serialNumber (where the
    project's citizen-certificate profile puts it)."""
    value = _text(cert, types.tail_of_citizen_id)
    if value is not None:
        return value
    serials = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(serials[0].value) if serials else None


def get_entity_oid(cert: x509.Certificate, types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetEntityOID: the OID of the entity (agency, unit)."""
    return _text(cert, types.entity_oid)


def get_uniform_organization_id(cert: x509.Certificate,
                                types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetUniformOrganizationID: the uniform organisation number (統一編號)."""
    return _text(cert, types.uniform_organization_id)


def get_cert_type_id(cert: x509.Certificate, types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetCertTypeID: the certificate type / group code."""
    return _text(cert, types.cert_type_id)


def get_uid(cert: x509.Certificate, types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetUID: the UID attribute of subjectDirectoryAttributes."""
    return _text(cert, types.uid)


def get_card_id(cert: x509.Certificate, types: SubjectDirectoryTypes = DEFAULT_TYPES) -> str | None:
    """GetCardID: the New eID card serial number (PKI-2)."""
    return _text(cert, types.card_id)
