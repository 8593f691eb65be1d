"""Active Authentication with ECDSA (ICAO 9303-11 §6.1, BSI TR-03111): the chip signs the terminal's
challenge with SHA-512 and answers the plain signature ``r || s`` (each half as long as the group order,
132 bytes in all on P-521)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from neweid.crypto.errors import AuthenticationError, CryptoError

_ALGORITHM = ec.ECDSA(hashes.SHA512())


def _half_len(curve: ec.EllipticCurve) -> int:
    return (curve.key_size + 7) // 8


def der_to_plain(der: bytes, byte_len: int) -> bytes:
    """A DER ``ECDSA-Sig-Value`` as the plain format ``r || s``, each ``byte_len`` bytes."""
    try:
        r, s = decode_dss_signature(der)
    except ValueError as exc:
        raise CryptoError("malformed DER ECDSA signature") from exc
    if byte_len <= 0 or r.bit_length() > 8 * byte_len or s.bit_length() > 8 * byte_len:
        raise CryptoError("signature value does not fit the plain format length")
    return r.to_bytes(byte_len, "big") + s.to_bytes(byte_len, "big")


def plain_to_der(signature: bytes) -> bytes:
    """A plain ``r || s`` signature (two halves of equal length) as a DER ``ECDSA-Sig-Value``."""
    if not signature or len(signature) % 2:
        raise CryptoError("a plain ECDSA signature has two halves of equal length")
    half = len(signature) // 2
    return encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )


def sign_challenge(key: ec.EllipticCurvePrivateKey, challenge: bytes) -> bytes:
    """The chip's answer to INTERNAL AUTHENTICATE: ECDSA-SHA-512 over ``challenge``, plain format."""
    return der_to_plain(key.sign(bytes(challenge), _ALGORITHM), _half_len(key.curve))


def verify_challenge(public_key: ec.EllipticCurvePublicKey, challenge: bytes, signature: bytes) -> None:
    """Check the chip's plain ECDSA-SHA-512 signature; :class:`AuthenticationError` if it is wrong."""
    if len(signature) != 2 * _half_len(public_key.curve):
        raise AuthenticationError("Active Authentication signature has the wrong length")
    half = len(signature) // 2
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    if r == 0 or s == 0:
        raise AuthenticationError("Active Authentication signature does not verify")
    try:
        public_key.verify(encode_dss_signature(r, s), bytes(challenge), _ALGORITHM)
    except InvalidSignature:
        raise AuthenticationError("Active Authentication signature does not verify") from None
