"""Document Signer: signs each zone's security object and EF.CardSecurity as CMS SignedData (PKI-4).

The output is a DER ``ContentInfo`` (RFC 5652) holding a ``SignedData``, as ICAO 9303-10 §4.6.2 and
TR-03110-3 describe, without ICAO's ``77`` application wrapper (the chip stores the ContentInfo itself in
EF.SOD, so that any CMS tool can read it): version 3, digestAlgorithms {SHA-512}, encapContentInfo
(eContentType id-icao-mrtd-security-ldsSecurityObject or id-SecurityObject, eContent present), the
Document Signer certificate, one SignerInfo (version 1, issuerAndSerialNumber, SHA-512, signed
attributes contentType + signingTime + messageDigest, ecdsa-with-SHA512).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from neweid.formats.security_infos import SecurityInfoFormatError, decode_security_infos
from neweid.formats.security_object import (
    ID_LDS_SECURITY_OBJECT,
    ID_SECURITY_OBJECT,
    MAX_DATA_GROUP,
    HashAlgorithm,
    LdsSecurityObject,
    SecurityObjectFormatError,
)
from neweid.pki.csca import Csca
from neweid.pki.errors import SigningError
from neweid.pki.keystore import Curve, KeyStore, KeyStoreSigner, SignatureAlgorithm
from neweid.pki.x509util import RandomSource, require_aware, same_public_key

__all__ = ["DocumentSigner", "sign_card_security", "sign_signed_data", "sign_zone"]

_log = logging.getLogger(__name__)

_HASH_OF: dict[SignatureAlgorithm, HashAlgorithm] = {
    SignatureAlgorithm.ECDSA_SHA256: HashAlgorithm.SHA256,
    SignatureAlgorithm.ECDSA_SHA384: HashAlgorithm.SHA384,
    SignatureAlgorithm.ECDSA_SHA512: HashAlgorithm.SHA512,
}


def _signing_time(moment: datetime.datetime) -> cms.Time:
    # RFC 5652 §11.3: UTCTime for 1950..2049, GeneralizedTime otherwise.
    if 1950 <= moment.year <= 2049:
        return cms.Time({"utc_time": moment})
    return cms.Time({"general_time": moment})


def _check_signer(signer: KeyStoreSigner, ds_cert: x509.Certificate, at: datetime.datetime) -> None:
    if not same_public_key(signer.public_key(), ds_cert.public_key()):
        raise SigningError("the signing key does not match the Document Signer certificate")
    if not ds_cert.not_valid_before_utc <= at <= ds_cert.not_valid_after_utc:
        raise SigningError("signing time outside the Document Signer certificate's validity")


def sign_signed_data(
    content_type: str,
    content: bytes,
    signer: KeyStoreSigner,
    ds_cert: x509.Certificate,
    *,
    signing_time: datetime.datetime,
) -> bytes:
    """DER ContentInfo/SignedData over ``content`` (encapsulated) with eContentType ``content_type``."""
    try:
        at = require_aware("signing_time", signing_time)
    except ValueError as exc:
        raise SigningError(str(exc)) from exc
    _check_signer(signer, ds_cert, at)
    digest_algorithm = _HASH_OF[signer.algorithm]
    digest_id = {"algorithm": digest_algorithm.value}
    signed_attrs = cms.CMSAttributes([
        {"type": "content_type", "values": [content_type]},
        {"type": "signing_time", "values": [_signing_time(at)]},
        {"type": "message_digest", "values": [digest_algorithm.digest(content)]},
    ])
    signature = signer.sign(signed_attrs.dump(force=True))  # DER SET OF, tag 31 (RFC 5652 §5.4)
    certificate = asn1_x509.Certificate.load(ds_cert.public_bytes(serialization.Encoding.DER))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": certificate.issuer, "serial_number": certificate.serial_number,
        }}),
        "digest_algorithm": digest_id,
        "signed_attrs": signed_attrs,
        "signature_algorithm": {"algorithm": signer.algorithm.value},
        "signature": signature,
    })
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [digest_id],
        "encap_content_info": {"content_type": content_type, "content": content},
        "certificates": [certificate],
        "signer_infos": [signer_info],
    })
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump(force=True))


def sign_zone(
    data_groups: Mapping[int, bytes],
    signer: KeyStoreSigner,
    ds_cert: x509.Certificate,
    *,
    signing_time: datetime.datetime,
) -> bytes:
    """The zone security object (EF.SOD): SignedData over the LDSSecurityObject of ``data_groups``
    (DG number → complete DG file bytes), hashed with the signer's hash (SHA-512 in the profile)."""
    if not data_groups:
        raise SigningError("a zone security object needs at least one data group")
    for number, value in data_groups.items():
        if type(number) is not int or not 1 <= number <= MAX_DATA_GROUP:
            raise SigningError(f"data group number {number!r} not in 1..{MAX_DATA_GROUP}")
        if not isinstance(value, bytes | bytearray):
            raise SigningError(f"DG{number} must be bytes")
    try:
        lds = LdsSecurityObject.compute(data_groups, _HASH_OF[signer.algorithm])
    except SecurityObjectFormatError as exc:
        raise SigningError(str(exc)) from exc
    sod = sign_signed_data(ID_LDS_SECURITY_OBJECT, lds.encode(), signer, ds_cert, signing_time=signing_time)
    _log.info("signed a zone security object over DGs %s", sorted(data_groups))
    return sod


def sign_card_security(
    security_infos_der: bytes,
    signer: KeyStoreSigner,
    ds_cert: x509.Certificate,
    *,
    signing_time: datetime.datetime,
) -> bytes:
    """EF.CardSecurity: SignedData (eContentType id-SecurityObject) over DER SecurityInfos."""
    try:
        decode_security_infos(security_infos_der)
    except SecurityInfoFormatError as exc:
        raise SigningError(f"not SecurityInfos: {exc}") from exc
    return sign_signed_data(ID_SECURITY_OBJECT, bytes(security_infos_der), signer, ds_cert,
                            signing_time=signing_time)


@dataclass(frozen=True)
class DocumentSigner:
    """A Document Signer: its certificate and the key-store signer holding its private key."""

    signer: KeyStoreSigner
    certificate: x509.Certificate

    @classmethod
    def create(
        cls,
        store: KeyStore,
        label: str,
        csca: Csca,
        *,
        not_before: datetime.datetime,
        common_name: str = "MOI New eID Document Signer",
        rng: RandomSource = os.urandom,
    ) -> DocumentSigner:
        """Generate a P-521 key under ``label`` and have ``csca`` certify it."""
        handle = store.generate_ec_key(label, Curve.P521)
        certificate = csca.issue_document_signer(handle.public_key(), not_before=not_before,
                                                 common_name=common_name, rng=rng)
        return cls(KeyStoreSigner(store, label, SignatureAlgorithm.ECDSA_SHA512), certificate)

    def sign_zone(self, data_groups: Mapping[int, bytes], *, signing_time: datetime.datetime) -> bytes:
        return sign_zone(data_groups, self.signer, self.certificate, signing_time=signing_time)

    def sign_card_security(self, security_infos_der: bytes, *, signing_time: datetime.datetime) -> bytes:
        return sign_card_security(security_infos_der, self.signer, self.certificate,
                                  signing_time=signing_time)
