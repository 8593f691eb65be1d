"""Helpers shared by the CSCA and Document Signer code: certificates signed through a key store, and
calendar arithmetic for validity periods."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.pki.errors import CertificateError
from neweid.pki.keystore import KeyStoreSigner

RandomSource = Callable[[int], bytes]


def sign_certificate(builder: x509.CertificateBuilder, signer: KeyStoreSigner) -> x509.Certificate:
    """Sign ``builder``'s TBSCertificate with ``signer`` without ever holding the private key.

    The TBSCertificate comes from the builder's unsigned form (RFC 9925); its ``signature`` algorithm is
    set to the signer's, then the DER TBS is signed by the key store.
    """
    unsigned = builder.create_unsigned()
    tbs = asn1_x509.TbsCertificate.load(unsigned.tbs_certificate_bytes)
    algorithm = {"algorithm": signer.algorithm.value}
    tbs["signature"] = algorithm
    tbs_der = tbs.dump(force=True)
    signature = signer.sign(tbs_der)
    certificate = asn1_x509.Certificate({
        "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
        "signature_algorithm": algorithm,
        "signature_value": signature,
    })
    return x509.load_der_x509_certificate(certificate.dump())


def random_serial(rng: RandomSource = os.urandom) -> int:
    """A positive 63-bit..64-bit certificate serial number (RFC 5280: at most 20 octets, positive)."""
    value = int.from_bytes(rng(8), "big") | (1 << 62)
    return value & ((1 << 63) - 1)


def add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    """``moment`` plus calendar months; the day is clamped to the target month's length."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month)


def require_aware(name: str, moment: datetime.datetime) -> datetime.datetime:
    """``moment`` in UTC; naive datetimes are refused."""
    if not isinstance(moment, datetime.datetime) or moment.tzinfo is None:
        raise CertificateError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(datetime.UTC).replace(microsecond=0)


def same_public_key(a: ec.EllipticCurvePublicKey, b: object) -> bool:
    """Whether ``b`` is the same EC public key as ``a``."""
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return isinstance(b, ec.EllipticCurvePublicKey) and a.public_bytes(*fmt) == b.public_bytes(*fmt)
