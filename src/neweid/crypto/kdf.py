"""Key derivation function of BSI TR-03110-3 A.2.3 / ICAO 9303-11 §9.7.1.

``KDF(K, c) = H(K || [r] || c)`` truncated to the key length, with ``c`` a 32-bit big-endian counter
(1 = encryption key, 2 = MAC key, 3 = PACE password key) and ``r`` an optional nonce (Chip
Authentication version 2 and later). ``H`` is SHA-1 for 16-byte keys (AES-128 and two-key 3DES) and
SHA-256 for 24- and 32-byte keys (AES-192, AES-256).
"""

from __future__ import annotations

from enum import IntEnum

from cryptography.hazmat.primitives import hashes

from neweid.crypto.errors import CryptoError

KEY_LENGTHS = (16, 24, 32)


class KdfCounter(IntEnum):
    """The counter values of the KDF."""

    ENC = 1
    MAC = 2
    PI = 3


def kdf(secret: bytes, counter: int, key_len: int, nonce: bytes = b"") -> bytes:
    """Derive a ``key_len``-byte key from ``secret`` (and ``nonce``) with the given counter."""
    if key_len not in KEY_LENGTHS:
        raise CryptoError(f"unsupported key length {key_len} (expected 16, 24 or 32)")
    if not 0 <= counter < 1 << 32:
        raise CryptoError("KDF counter out of range")
    algorithm: hashes.HashAlgorithm = hashes.SHA1() if key_len == 16 else hashes.SHA256()  # noqa: S303
    digest = hashes.Hash(algorithm)
    digest.update(bytes(secret) + bytes(nonce) + counter.to_bytes(4, "big"))
    return digest.finalize()[:key_len]


def kdf_enc(secret: bytes, key_len: int, nonce: bytes = b"") -> bytes:
    """K_enc = KDF(secret, 1)."""
    return kdf(secret, KdfCounter.ENC, key_len, nonce)


def kdf_mac(secret: bytes, key_len: int, nonce: bytes = b"") -> bytes:
    """K_mac = KDF(secret, 2)."""
    return kdf(secret, KdfCounter.MAC, key_len, nonce)


def kdf_pi(password: bytes, key_len: int) -> bytes:
    """K_pi = KDF(password, 3), the PACE password key."""
    return kdf(password, KdfCounter.PI, key_len)
