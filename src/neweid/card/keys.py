"""On-card private keys (CARD-6): generation, loading from the image, and the public-key data object
``7F49`` that GENERATE ASYMMETRIC KEY PAIR answers (ISO/IEC 7816-8: RSA ``81`` modulus, ``82`` public
exponent; EC ``86`` uncompressed point).

Private keys are stored as unencrypted PKCS#8 DER in the image (the image is the chip's memory) and
never leave the card through a command. EC private scalars come from the card's RNG; RSA keys come from
OpenSSL's generator (pyca/cryptography takes no RNG for RSA).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from neweid.card.errors import CardError
from neweid.crypto.ec import NIST_P521, random_scalar
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import encode_constructed, encode_tlv

RSA_BITS = 2048
RSA_EXPONENT = 65537
TAG_PUBLIC_KEY = 0x7F49

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _pkcs8(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def generate_ec_key(rng: Callable[[int], bytes]) -> bytes:
    """A new P-521 key (PKCS#8 DER) with a private scalar drawn from ``rng``."""
    return _pkcs8(ec.derive_private_key(random_scalar(NIST_P521, rng), ec.SECP521R1()))


def generate_rsa_key() -> bytes:
    """A new RSA-2048 key (PKCS#8 DER), public exponent 65537."""
    return _pkcs8(rsa.generate_private_key(RSA_EXPONENT, RSA_BITS))


def load_private_key(der: bytes) -> PrivateKey:
    """The key stored in the image; ``6984`` if it cannot be used. Parsed once per key (an RSA-2048 key
    takes ~28 ms to load against ~0.2 ms to sign): the chip's key objects stay in memory like a chip's."""
    return _load_private_key(der)


@functools.lru_cache(maxsize=64)
def _load_private_key(der: bytes) -> PrivateKey:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "stored key unreadable") from None
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP521R1):
        return key
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "stored key of an unsupported type")


def load_ec_key(der: bytes) -> ec.EllipticCurvePrivateKey:
    key = load_private_key(der)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "not an EC key")
    return key


def ec_point(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> bytes:
    """The uncompressed public point ``04 ‖ X ‖ Y``."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def public_key_do(der: bytes) -> bytes:
    """``7F49 {81 n, 82 e}`` (RSA) or ``7F49 {86 point}`` (EC) of the stored key: the public part only."""
    key = load_private_key(der)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return encode_tlv(TAG_PUBLIC_KEY, encode_tlv(0x86, ec_point(key)))
    numbers = key.public_key().public_numbers()
    return encode_constructed(TAG_PUBLIC_KEY, [
        encode_tlv(0x81, numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        encode_tlv(0x82, numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
    ])
