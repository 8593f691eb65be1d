"""MOI's Country Signing CA (CSCA) for the chip data (PKI-4) and the Document Signer certificates it issues.

Profile (ICAO 9303-12, docs/protocol-profile.md):

* CSCA: self-signed, ECDSA P-521 with SHA-512, subject ``C=TW, O=Ministry of the Interior, CN=…CSCA``,
  basicConstraints CA:TRUE pathLen 0 (critical), keyUsage keyCertSign + cRLSign (critical), subject and
  authority key identifiers; validity 15 years from the ``not_before`` the caller passes.
* Document Signer: ECDSA P-521 key, keyUsage digitalSignature (critical), no basicConstraints (as ICAO),
  key identifiers; validity 10 years + 3 months (the signing period plus the longest card validity),
  never past the CSCA's own end.
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from neweid.pki.errors import CertificateError
from neweid.pki.keystore import Curve, KeyStore, KeyStoreSigner, SignatureAlgorithm
from neweid.pki.x509util import (
    RandomSource,
    add_months,
    random_serial,
    require_aware,
    same_public_key,
    sign_certificate,
)

__all__ = [
    "CSCA_VALIDITY_MONTHS",
    "DOCUMENT_SIGNER_VALIDITY_MONTHS",
    "MOI_ORGANISATION",
    "Csca",
    "moi_name",
]

_log = logging.getLogger(__name__)

CSCA_VALIDITY_MONTHS = 15 * 12
DOCUMENT_SIGNER_VALIDITY_MONTHS = 10 * 12 + 3
MOI_ORGANISATION = "Ministry of the Interior"


def moi_name(common_name: str) -> x509.Name:
    """``C=TW, O=Ministry of the Interior, CN=<common_name>``."""
    if not isinstance(common_name, str) or not 0 < len(common_name) <= 64:
        raise CertificateError("common name must be 1-64 characters")
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, MOI_ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


@dataclass(frozen=True)
class Csca:
    """A CSCA: its certificate and the key-store signer that holds its private key."""

    certificate: x509.Certificate
    signer: KeyStoreSigner

    @classmethod
    def create(
        cls,
        store: KeyStore,
        label: str,
        *,
        not_before: datetime.datetime,
        common_name: str = "MOI New eID CSCA",
        validity_months: int = CSCA_VALIDITY_MONTHS,
        rng: RandomSource = os.urandom,
    ) -> Csca:
        """Generate a P-521 key under ``label`` in ``store`` and self-sign the CSCA certificate."""
        start = require_aware("not_before", not_before)
        if validity_months <= 0:
            raise CertificateError("validity must be positive")
        name = moi_name(common_name)
        handle = store.generate_ec_key(label, Curve.P521)
        public_key = handle.public_key()
        ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public_key)
            .serial_number(random_serial(rng))
            .not_valid_before(start)
            .not_valid_after(add_months(start, validity_months))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
        )
        signer = KeyStoreSigner(store, label, SignatureAlgorithm.ECDSA_SHA512)
        certificate = sign_certificate(builder, signer)
        _log.info("created CSCA %s", certificate.subject.rfc4514_string())
        return cls(certificate, signer)

    @classmethod
    def load(cls, store: KeyStore, label: str, certificate: x509.Certificate) -> Csca:
        """A CSCA from an existing certificate and its key in ``store`` (keys must match)."""
        if not same_public_key(store.public_key(label), certificate.public_key()):
            raise CertificateError(f"key {label!r} does not belong to the CSCA certificate")
        return cls(certificate, KeyStoreSigner(store, label, SignatureAlgorithm.ECDSA_SHA512))

    def issue_document_signer(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        not_before: datetime.datetime,
        common_name: str = "MOI New eID Document Signer",
        validity_months: int = DOCUMENT_SIGNER_VALIDITY_MONTHS,
        rng: RandomSource = os.urandom,
    ) -> x509.Certificate:
        """Issue a Document Signer certificate for ``public_key`` (an EC key, P-521 in the profile)."""
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise CertificateError("a Document Signer key must be an EC public key")
        start = require_aware("not_before", not_before)
        if validity_months <= 0:
            raise CertificateError("validity must be positive")
        csca_start = self.certificate.not_valid_before_utc
        csca_end = self.certificate.not_valid_after_utc
        if not csca_start <= start < csca_end:
            raise CertificateError("not_before lies outside the CSCA certificate's validity")
        end = min(add_months(start, validity_months), csca_end)
        ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(moi_name(common_name))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(random_serial(rng))
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
        )
        certificate = sign_certificate(builder, self.signer)
        _log.info("issued Document Signer certificate %s (serial %x)",
                  certificate.subject.rfc4514_string(), certificate.serial_number)
        return certificate
