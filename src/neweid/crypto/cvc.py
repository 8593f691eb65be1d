"""Signatures of CV certificates and requests (BSI TR-03110-3 App. C), and conversions between CV
public keys and pyca/cryptography keys.

A CV certificate is signed by its issuer with the algorithm of the issuer's key (the ``id-TA-ECDSA-SHA-*``
OID of the issuer's public key data object), in the plain format ``r ‖ s`` (TR-03111), over the DER of
the ``7F4E`` body. Only a CVCA certificate carries the domain parameters; DV and terminal keys inherit
them from the CVCA along the chain, which is what :class:`CvKey` and :func:`verify_cv_chain` track.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from neweid.crypto.aa import der_to_plain
from neweid.crypto.ec import CURVES, Curve, crypto_curve, decode_point, encode_point
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.formats.cvc import (
    ID_TA_ECDSA_SHA_1,
    ID_TA_ECDSA_SHA_224,
    ID_TA_ECDSA_SHA_256,
    ID_TA_ECDSA_SHA_384,
    ID_TA_ECDSA_SHA_512,
    CvCertificate,
    CvCertificateBody,
    CvPublicKey,
    CvRequest,
    CvRequestBody,
    DomainParameters,
    encode_cv_body,
    encode_cv_request_body,
    outer_signature_input,
)

__all__ = [
    "CvKey",
    "PlainSigner",
    "curve_from_domain",
    "cv_public_key_from_crypto",
    "cv_public_key_to_crypto",
    "domain_from_curve",
    "ecdsa_sign_plain",
    "ecdsa_verify_plain",
    "hash_for_ta_oid",
    "sign_cv_certificate",
    "sign_cv_request",
    "verify_cv_chain",
    "verify_cv_request",
    "verify_cv_signature",
]

PlainSigner = Callable[[bytes], bytes]
"""Signs a message (hashing it) and returns the plain ``r ‖ s`` signature: a software key, a key store,
an HSM."""

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    ID_TA_ECDSA_SHA_1: hashes.SHA1,
    ID_TA_ECDSA_SHA_224: hashes.SHA224,
    ID_TA_ECDSA_SHA_256: hashes.SHA256,
    ID_TA_ECDSA_SHA_384: hashes.SHA384,
    ID_TA_ECDSA_SHA_512: hashes.SHA512,
}


def hash_for_ta_oid(oid: str) -> hashes.HashAlgorithm:
    """The hash of an ``id-TA-ECDSA-SHA-*`` algorithm."""
    try:
        return _HASHES[oid]()
    except KeyError:
        raise CryptoError(f"unsupported Terminal Authentication algorithm {oid}") from None


# --- curves and keys ------------------------------------------------------------------------------


def domain_from_curve(curve: Curve) -> DomainParameters:
    """The explicit domain parameters of a named curve (as a CVCA certificate carries them)."""
    return DomainParameters(curve.p, curve.a, curve.b, encode_point(curve, curve.g), curve.n, curve.h)


def curve_from_domain(domain: DomainParameters) -> Curve:
    """The standardised curve with exactly these parameters; :class:`CryptoError` for any other."""
    for curve in CURVES:
        if (curve.p, curve.a, curve.b, curve.n) == (domain.p, domain.a, domain.b, domain.n) \
                and domain.g == encode_point(curve, curve.g) and domain.h in (None, curve.h):
            return curve
    raise CryptoError("the domain parameters are not those of a supported standardised curve")


def _ec_curve(curve: Curve | DomainParameters) -> tuple[Curve, ec.EllipticCurve]:
    named = curve_from_domain(curve) if isinstance(curve, DomainParameters) else curve
    return named, crypto_curve(named)


def cv_public_key_to_crypto(key: CvPublicKey, domain: DomainParameters | Curve | None = None
                            ) -> ec.EllipticCurvePublicKey:
    """The pyca/cryptography key of a CV public key; its own domain parameters win over ``domain``."""
    params = key.domain if key.domain is not None else domain
    if params is None:
        raise CryptoError("the public key has no domain parameters and none were given")
    curve, ec_curve = _ec_curve(params)
    x, y = decode_point(curve, key.point)
    return ec.EllipticCurvePublicNumbers(x, y, ec_curve).public_key()


def cv_public_key_from_crypto(key: ec.EllipticCurvePublicKey, oid: str, *, with_domain: bool = False
                              ) -> CvPublicKey:
    """The CV public key data object of ``key`` (with its domain parameters for a CVCA)."""
    curve = _curve_of(key)
    numbers = key.public_numbers()
    point = encode_point(curve, (numbers.x, numbers.y))
    hash_for_ta_oid(oid)
    return CvPublicKey(oid, point, domain_from_curve(curve) if with_domain else None)


def _curve_of(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> Curve:
    for curve in CURVES:
        try:
            if crypto_curve(curve).name == key.curve.name:
                return curve
        except CryptoError:
            continue
    raise CryptoError(f"unsupported curve {key.curve.name}")


# --- plain ECDSA ----------------------------------------------------------------------------------


def ecdsa_sign_plain(key: ec.EllipticCurvePrivateKey, data: bytes, oid: str) -> bytes:
    """ECDSA over ``data`` with the hash of ``oid``, plain ``r ‖ s`` (each half the order's length)."""
    curve = _curve_of(key)
    return der_to_plain(key.sign(bytes(data), ec.ECDSA(hash_for_ta_oid(oid))), curve.order_byte_len)


def ecdsa_verify_plain(key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes, oid: str,
                       what: str = "signature") -> None:
    """Check a plain ``r ‖ s`` ECDSA signature; :class:`AuthenticationError` if it does not verify.

    TR-03111 makes each half as long as the group order; OpenPACE writes halves only as long as the
    longer of r and s needs (130 instead of 132 bytes on P-521 about one time in four), so shorter halves
    of equal length are accepted too."""
    order_len = _curve_of(key).order_byte_len
    if not signature or len(signature) % 2 or len(signature) > 2 * order_len:
        raise AuthenticationError(f"{what} has {len(signature)} bytes, expected {2 * order_len}")
    half = len(signature) // 2
    r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    if r == 0 or s == 0:
        raise AuthenticationError(f"{what} does not verify")
    try:
        key.verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(hash_for_ta_oid(oid)))
    except InvalidSignature:
        raise AuthenticationError(f"{what} does not verify") from None


# --- certificates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CvKey:
    """A verified CV public key with the curve it inherited: a CVCA trust point, or the key of a DV or
    terminal certificate checked against one."""

    chr: str
    oid: str
    curve: Curve
    public_key: ec.EllipticCurvePublicKey
    certificate: CvCertificate | None = None

    @classmethod
    def from_cvca(cls, cert: CvCertificate) -> CvKey:
        """A trust point from a CVCA certificate (which must carry its domain parameters). Its signature
        is not checked: a trust point is trusted because of how it was installed."""
        key = cert.body.public_key
        if key.domain is None:
            raise CryptoError(f"{cert.chr} carries no domain parameters: it cannot be a trust point")
        curve = curve_from_domain(key.domain)
        return cls(cert.chr, key.oid, curve, cv_public_key_to_crypto(key, curve), cert)

    @classmethod
    def from_certificate(cls, cert: CvCertificate, issuer: CvKey) -> CvKey:
        """The key of ``cert`` after checking its signature with ``issuer`` (the domain parameters are
        inherited from the issuer unless the certificate has its own, e.g. a CVCA link certificate)."""
        verify_cv_signature(cert, issuer)
        key = cert.body.public_key
        curve = curve_from_domain(key.domain) if key.domain is not None else issuer.curve
        return cls(cert.chr, key.oid, curve, cv_public_key_to_crypto(key, curve), cert)


def verify_cv_signature(cert: CvCertificate, issuer_public_key: CvKey | ec.EllipticCurvePublicKey) -> None:
    """Check the certificate's signature with its issuer's key; :class:`AuthenticationError` if wrong.

    With a :class:`CvKey` the hash comes from the issuer's algorithm OID (and its CHR must be the
    certificate's CAR); with a bare key it comes from the certificate's own OID (one algorithm per chain).
    """
    if isinstance(issuer_public_key, CvKey):
        if issuer_public_key.chr != cert.car:
            raise AuthenticationError(f"{cert.chr} is issued by {cert.car}, not by {issuer_public_key.chr}")
        key, oid = issuer_public_key.public_key, issuer_public_key.oid
    elif isinstance(issuer_public_key, ec.EllipticCurvePublicKey):
        key, oid = issuer_public_key, cert.body.public_key.oid
    else:
        raise CryptoError("the issuer key must be a CvKey or an EC public key")
    ecdsa_verify_plain(key, cert.body_der, cert.signature, oid, f"signature of {cert.chr}")


def sign_cv_certificate(body: CvCertificateBody, signer: PlainSigner) -> CvCertificate:
    """Sign ``body`` with the issuer's ``signer`` (plain signature over the DER body)."""
    body_der = encode_cv_body(body)
    return CvCertificate(body, signer(body_der), body_der)


def verify_cv_chain(chain: Iterable[CvCertificate], trust_point: CvKey) -> CvKey:
    """Verify ``chain`` (issuer first: link certificates, DV, terminal) from ``trust_point``; returns
    the key of the last certificate. Only signatures and the CAR/CHR links are checked here: dates and
    roles are the caller's (the chip's) rules."""
    current = trust_point
    for cert in chain:
        current = CvKey.from_certificate(cert, current)
    return current


# --- requests -------------------------------------------------------------------------------------


def sign_cv_request(body: CvRequestBody, signer: PlainSigner, *, outer_car: str | None = None,
                    outer_signer: PlainSigner | None = None) -> CvRequest:
    """Sign a request with the requested key (inner signature) and, for an authenticated request, with
    the holder's current key (outer signature)."""
    if (outer_car is None) != (outer_signer is None):
        raise CryptoError("an authenticated request needs both the outer CAR and the outer signer")
    body_der = encode_cv_request_body(body)
    request = CvRequest(body, signer(body_der), body_der)
    if outer_car is None or outer_signer is None:
        return request
    outer = outer_signer(outer_signature_input(request, outer_car))
    return CvRequest(body, request.inner_signature, request.body_der, outer_car, outer)


def verify_cv_request(request: CvRequest, *, domain: DomainParameters | Curve | None = None,
                      outer_key: CvKey | None = None) -> None:
    """Check the inner signature (with the requested key and its own domain parameters, or ``domain``)
    and, if the request is authenticated, the outer one with ``outer_key`` (required then)."""
    key = request.body.public_key
    public = cv_public_key_to_crypto(key, domain)
    ecdsa_verify_plain(public, request.body_der, request.inner_signature, key.oid,
                       f"inner signature of the request {request.body.chr}")
    if request.outer_car is None or request.outer_signature is None:
        return
    if outer_key is None:
        raise CryptoError(f"the request is authenticated by {request.outer_car}: give its key")
    if outer_key.chr != request.outer_car:
        raise AuthenticationError(f"the request is authenticated by {request.outer_car}, not {outer_key.chr}")
    ecdsa_verify_plain(outer_key.public_key, outer_signature_input(request, request.outer_car),
                       request.outer_signature, outer_key.oid, "outer signature of the request")
