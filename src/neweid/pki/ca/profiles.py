"""Citizen-certificate profiles (PKI-2, CARD-6; docs/citizen-certificate-profile.md).

Each card holds four key pairs generated on the chip: RSA-2048 and ECC P-521, one of each for signing
and one for encryption / key agreement. The CA certifies them from PKCS#10 requests:

* the request's signature is verified and its key must be RSA-2048 (exponent 65537) or P-521;
* subject ``C=TW, CN=<name>, serialNumber=<last 4 characters of the ID number>``; the full ID number is
  never written into a certificate (nor into the CA's database or audit log);
* keyUsage (critical): signing → digitalSignature + nonRepudiation; encryption → keyEncipherment (RSA)
  or keyAgreement (EC);
* subjectDirectoryAttributes carries the New eID card serial number under
  :data:`~neweid.pki.ca.oids.ID_AT_NEWEID_CARD_SERIAL`;
* CRL distribution point, freshest CRL (delta), AIA with OCSP and caIssuers, certificate policies,
  subject and authority key identifiers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from neweid.formats.errors import FormatError
from neweid.formats.idnumber import validate_id_number
from neweid.pki.ca import _der
from neweid.pki.ca.errors import CsrError, Refusal
from neweid.pki.ca.oids import (
    ID_AT_NEWEID_CARD_SERIAL,
    ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
    POLICY_GPKI_CLASS3,
    POLICY_NEWEID_CITIZEN_ENCRYPT,
    POLICY_NEWEID_CITIZEN_SIGN,
)
from neweid.pki.ca.validity import ValidityPeriod

__all__ = [
    "CaUrls",
    "CertificateUsage",
    "KeyAlgorithm",
    "Subscriber",
    "SubscriberKey",
    "card_serial_attribute",
    "load_csr",
    "random_serial",
    "read_card_serial",
    "subscriber_certificate_builder",
]

_CARD_SERIAL = re.compile(r"[0-9A-Z]{0,26}[0-9]{6}")
RSA_BITS = 2048
RSA_EXPONENT = 65537


class CertificateUsage(StrEnum):
    """What a citizen key is for."""

    SIGN = "sign"
    ENCRYPT = "encrypt"


class KeyAlgorithm(StrEnum):
    """The two key types of CARD-6."""

    RSA_2048 = "rsa2048"
    EC_P521 = "p521"


SubscriberPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class SubscriberKey:
    """A checked public key from a CSR whose signature was verified."""

    public_key: SubscriberPublicKey
    algorithm: KeyAlgorithm


def _check_key(key: object) -> SubscriberKey:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size != RSA_BITS:
            raise CsrError(f"RSA keys must be {RSA_BITS} bits, not {key.key_size}", Refusal.WRONG_KEY_SIZE)
        if key.public_numbers().e != RSA_EXPONENT:
            raise CsrError("RSA keys must use the public exponent 65537", Refusal.WRONG_KEY_TYPE)
        return SubscriberKey(key, KeyAlgorithm.RSA_2048)
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP521R1):
            raise CsrError(f"EC keys must be on P-521, not {key.curve.name}", Refusal.WRONG_KEY_SIZE)
        return SubscriberKey(key, KeyAlgorithm.EC_P521)
    raise CsrError("the key must be RSA-2048 or ECC P-521", Refusal.WRONG_KEY_TYPE)


def load_csr(data: bytes) -> SubscriberKey:
    """The public key of a PKCS#10 request (PEM or DER) after checking its signature and key type.

    The request's subject and attributes are ignored: the CA writes the subject from its own records.
    """
    if not isinstance(data, bytes | bytearray) or not data:
        raise CsrError("the certificate request is empty", Refusal.BAD_CSR)
    raw = bytes(data)
    try:
        csr = (x509.load_pem_x509_csr(raw) if raw.lstrip().startswith(b"-----BEGIN")
               else x509.load_der_x509_csr(raw))
        public_key = csr.public_key()
    except (ValueError, TypeError) as exc:
        raise CsrError("the certificate request is not a valid PKCS#10 request", Refusal.BAD_CSR) from exc
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm and others for odd keys
        raise CsrError("the certificate request's key cannot be used", Refusal.WRONG_KEY_TYPE) from exc
    checked = _check_key(public_key)
    try:
        valid = csr.is_signature_valid
    except Exception as exc:  # an unsupported signature algorithm
        raise CsrError("the certificate request's signature cannot be checked",
                       Refusal.BAD_CSR_SIGNATURE) from exc
    if not valid:
        raise CsrError("the certificate request's signature is invalid", Refusal.BAD_CSR_SIGNATURE)
    return checked


@dataclass(frozen=True)
class Subscriber:
    """Who a certificate names. Build it with :meth:`from_id_number`, which keeps only the last four
    characters of the ID number."""

    name: str
    id_last4: str
    card_serial: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 0 < len(self.name) <= 64 or self.name != self.name.strip():
            raise CsrError("the name must be 1-64 characters without surrounding spaces", Refusal.BAD_SUBJECT)
        if any(ord(ch) < 0x20 for ch in self.name):
            raise CsrError("the name must not contain control characters", Refusal.BAD_SUBJECT)
        if not isinstance(self.id_last4, str) or not re.fullmatch(r"[0-9]{4}", self.id_last4):
            raise CsrError("the ID-number suffix must be 4 digits", Refusal.BAD_SUBJECT)
        if not isinstance(self.card_serial, str) or not _CARD_SERIAL.fullmatch(self.card_serial):
            raise CsrError("the card serial must be upper-case letters and digits ending in 6 digits",
                           Refusal.BAD_SUBJECT)

    @classmethod
    def from_id_number(cls, name: str, id_number: str, card_serial: str) -> Subscriber:
        """A subscriber from the full ID number, which is validated and then dropped."""
        try:
            valid = validate_id_number(id_number, allow_resident=True)
        except FormatError as exc:
            raise CsrError(str(exc), Refusal.BAD_SUBJECT) from exc
        return cls(name, valid[-4:], card_serial)

    def subject(self) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
            x509.NameAttribute(NameOID.COMMON_NAME, self.name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, self.id_last4),
        ])


@dataclass(frozen=True)
class CaUrls:
    """Where relying parties find status and the issuer: all under one base URL."""

    base_url: str = "http://127.0.0.1:8080/"

    def __post_init__(self) -> None:
        if not isinstance(self.base_url, str) or not re.fullmatch(r"https?://[^\s/]+/(\S*/)?", self.base_url):
            raise CsrError("the base URL must be http(s)://host[:port]/... ending in '/'",
                           Refusal.BAD_DIRECTORY)

    @property
    def ocsp(self) -> str:
        return self.base_url

    @property
    def ca_issuers(self) -> str:
        return self.base_url + "ca/issuing-ca.crt"

    @property
    def root(self) -> str:
        return self.base_url + "ca/root-ca.crt"

    @property
    def full_crl(self) -> str:
        return self.base_url + "crl/full.crl"

    @property
    def delta_crl(self) -> str:
        return self.base_url + "crl/delta.crl"


def random_serial(rng: Callable[[int], bytes] = os.urandom) -> int:
    """A 126-bit random positive serial number, always 16 octets in DER (RFC 5280 allows 20)."""
    return (int.from_bytes(rng(16), "big") & ((1 << 126) - 1)) | (1 << 126)


def card_serial_attribute(card_serial: str) -> bytes:
    """DER of the subjectDirectoryAttributes value: one attribute, the card serial (PrintableString)."""
    attribute = _der.sequence(_der.oid(ID_AT_NEWEID_CARD_SERIAL.dotted_string),
                              _der.set_of(_der.printable_string(card_serial)))
    return _der.sequence(attribute)


class _PrintableValues(core.SetOf):  # type: ignore[misc]
    _child_spec = core.PrintableString


class _Attribute(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[str, type]]] = [
        ("type", core.ObjectIdentifier), ("values", _PrintableValues)]


class _Attributes(core.SequenceOf):  # type: ignore[misc]
    _child_spec = _Attribute


def read_card_serial(value: bytes) -> str:
    """The card serial from a subjectDirectoryAttributes value (:class:`CsrError` if absent)."""
    try:
        for attribute in _Attributes.load(value):
            if attribute["type"].dotted == ID_AT_NEWEID_CARD_SERIAL.dotted_string:
                serial = str(attribute["values"][0].native)
                if _CARD_SERIAL.fullmatch(serial):
                    return serial
    except (ValueError, TypeError, IndexError) as exc:
        raise CsrError("damaged subjectDirectoryAttributes", Refusal.BAD_SUBJECT) from exc
    raise CsrError("the certificate carries no card serial", Refusal.BAD_SUBJECT)


def _key_usage(usage: CertificateUsage, algorithm: KeyAlgorithm) -> x509.KeyUsage:
    sign = usage is CertificateUsage.SIGN
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=sign,
        key_encipherment=not sign and algorithm is KeyAlgorithm.RSA_2048, data_encipherment=False,
        key_agreement=not sign and algorithm is KeyAlgorithm.EC_P521, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )


def subscriber_certificate_builder(
    *,
    key: SubscriberKey,
    subscriber: Subscriber,
    usage: CertificateUsage,
    period: ValidityPeriod,
    issuer: x509.Certificate,
    urls: CaUrls,
    serial: int,
) -> x509.CertificateBuilder:
    """The unsigned citizen certificate; the CA signs it through its key store."""
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    policy = POLICY_NEWEID_CITIZEN_SIGN if usage is CertificateUsage.SIGN else POLICY_NEWEID_CITIZEN_ENCRYPT
    return (
        x509.CertificateBuilder()
        .subject_name(subscriber.subject())
        .issuer_name(issuer.subject)
        .public_key(key.public_key)
        .serial_number(serial)
        .not_valid_before(period.not_before)
        .not_valid_after(period.not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(usage, key.algorithm), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(issuer_ski.digest, None, None), critical=False)
        .add_extension(x509.CertificatePolicies([
            x509.PolicyInformation(POLICY_GPKI_CLASS3, None),
            x509.PolicyInformation(policy, None),
        ]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(urls.full_crl)], None, None, None)]), critical=False)
        .add_extension(x509.FreshestCRL([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(urls.delta_crl)], None, None, None)]), critical=False)
        .add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier(urls.ocsp)),
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier(urls.ca_issuers)),
        ]), critical=False)
        .add_extension(x509.UnrecognizedExtension(ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
                                                  card_serial_attribute(subscriber.card_serial)),
                       critical=False)
    )
