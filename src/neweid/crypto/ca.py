"""Chip Authentication version 2 with ECDH (BSI TR-03110-2 §3.4 / TR-03110-3 B.11.2): pure steps and two
small one-shot state machines.

::

    terminal                                        chip (static key SK_PICC, PK_PICC in EF.CardSecurity)
    ephPK_PCD (Comp bound earlier by TA) ──────────▶ K = x(SK_PICC · ephPK_PCD)
                                                     r_PICC random (8 bytes)
                                                     K_enc = KDF(K ‖ r_PICC, 1), K_mac = KDF(K ‖ r_PICC, 2)
    K = x(ephSK_PCD · PK_PICC), same keys   ◀─────── r_PICC, T_PICC
                                                     T_PICC = CMAC(K_mac, 7F49{06 OID, 86 ephPK_PCD})[:8]
    check T_PICC → restart secure messaging with K_enc/K_mac

Points cross the methods encoded (``04 ‖ X ‖ Y``) as they do in the APDUs.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.ec import Curve, decode_point, ecdh_x, encode_point, point_mul, random_scalar
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.crypto.kdf import kdf_enc, kdf_mac
from neweid.crypto.pace import authentication_token
from neweid.crypto.ta import compress_point

__all__ = [
    "CA_SUITES",
    "ID_CA_ECDH_AES_CBC_CMAC_128",
    "ID_CA_ECDH_AES_CBC_CMAC_192",
    "ID_CA_ECDH_AES_CBC_CMAC_256",
    "NONCE_LEN",
    "CaChip",
    "CaResponse",
    "CaState",
    "CaTerminal",
    "ca_derive_keys",
    "ca_suite_key_len",
    "ca_token",
]

_log = logging.getLogger(__name__)

ID_CA_ECDH_AES_CBC_CMAC_128 = "0.4.0.127.0.7.2.2.3.2.2"
ID_CA_ECDH_AES_CBC_CMAC_192 = "0.4.0.127.0.7.2.2.3.2.3"
ID_CA_ECDH_AES_CBC_CMAC_256 = "0.4.0.127.0.7.2.2.3.2.4"
CA_SUITES: dict[str, int] = {
    ID_CA_ECDH_AES_CBC_CMAC_128: 16,
    ID_CA_ECDH_AES_CBC_CMAC_192: 24,
    ID_CA_ECDH_AES_CBC_CMAC_256: 32,
}
NONCE_LEN = 8
TOKEN_LEN = 8


def ca_suite_key_len(oid: str) -> int:
    """The AES key length of a CA protocol OID; :class:`CryptoError` for any other protocol."""
    try:
        return CA_SUITES[oid]
    except KeyError:
        raise CryptoError(f"unsupported Chip Authentication protocol {oid}") from None


def ca_derive_keys(shared_x: bytes, r_picc: bytes, key_len: int) -> tuple[bytes, bytes]:
    """(K_enc, K_mac) = (KDF(K ‖ r_PICC, 1), KDF(K ‖ r_PICC, 2))."""
    if len(r_picc) != NONCE_LEN:
        raise CryptoError(f"r_PICC has {NONCE_LEN} bytes, not {len(r_picc)}")
    if not shared_x:
        raise CryptoError("the shared secret must not be empty")
    return kdf_enc(shared_x, key_len, r_picc), kdf_mac(shared_x, key_len, r_picc)


def ca_token(k_mac: bytes, oid: str, curve: Curve, eph_pk_pcd: bytes) -> bytes:
    """T_PICC: the first 8 bytes of CMAC(K_mac, 7F49 {06 OID, 86 ephPK_PCD})."""
    return authentication_token(k_mac, oid, curve, decode_point(curve, bytes(eph_pk_pcd)))


class CaState(Enum):
    """A CA run is one-shot: READY → DONE, or FAILED on any error."""

    READY = "ready"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class CaResponse:
    """What the chip answers (r_PICC, T_PICC) and the new secure-messaging keys."""

    r_picc: bytes
    t_picc: bytes
    k_enc: bytes
    k_mac: bytes

    def __repr__(self) -> str:  # never show keys
        return f"CaResponse(r_picc={self.r_picc.hex()}, t_picc={self.t_picc.hex()})"


class _CaParty:
    def __init__(self, curve: Curve, oid: str) -> None:
        self._curve = curve
        self._oid = oid
        self._key_len = ca_suite_key_len(oid)
        self._state = CaState.READY

    @property
    def state(self) -> CaState:
        return self._state

    def _start(self, step: str) -> None:
        if self._state is not CaState.READY:
            current = self._state
            self._state = CaState.FAILED
            raise CryptoError(f"Chip Authentication step {step!r} is not allowed in state {current.value}")


class CaChip(_CaParty):
    """The chip's side: :meth:`respond` to the terminal's ephemeral key with its static key."""

    def __init__(self, curve: Curve, static_private: int | ec.EllipticCurvePrivateKey,
                 oid: str = ID_CA_ECDH_AES_CBC_CMAC_256, rng: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__(curve, oid)
        if isinstance(static_private, ec.EllipticCurvePrivateKey):
            static_private = static_private.private_numbers().private_value
        if isinstance(static_private, bool) or not isinstance(static_private, int) \
                or not 0 < static_private < curve.n:
            raise CryptoError("the static Chip Authentication key is out of range")
        self._private = static_private
        self._rng = rng

    def respond(self, eph_pk_pcd: bytes, expected_comp: bytes | None = None) -> CaResponse:
        """Key agreement with ``eph_pk_pcd``; ``expected_comp`` is Comp(ephPK_PCD) from TA's MSE:Set AT,
        which must match (:class:`AuthenticationError` otherwise)."""
        self._start("respond")
        try:
            peer = decode_point(self._curve, bytes(eph_pk_pcd))
            if expected_comp is not None and not hmac.compare_digest(
                    compress_point(eph_pk_pcd), bytes(expected_comp)):
                raise AuthenticationError("the ephemeral key differs from the one bound by Terminal "
                                          "Authentication")
            shared = ecdh_x(self._curve, self._private, peer)
            r_picc = self._rng(NONCE_LEN)
            if len(r_picc) != NONCE_LEN:
                raise CryptoError("random source returned the wrong number of bytes")
            k_enc, k_mac = ca_derive_keys(shared, r_picc, self._key_len)
            token = ca_token(k_mac, self._oid, self._curve, eph_pk_pcd)
        except CryptoError:
            self._state = CaState.FAILED
            raise
        self._state = CaState.DONE
        _log.debug("Chip Authentication chip side completed (%s, %s)", self._oid, self._curve.name)
        return CaResponse(r_picc, token, k_enc, k_mac)


class CaTerminal(_CaParty):
    """The terminal's side: an ephemeral key pair drawn at construction (:attr:`ephemeral_public`,
    :attr:`comp_ephemeral` for TA), then :meth:`finish` with the chip's answer."""

    def __init__(self, curve: Curve, chip_public: bytes, oid: str = ID_CA_ECDH_AES_CBC_CMAC_256,
                 rng: Callable[[int], bytes] = os.urandom) -> None:
        super().__init__(curve, oid)
        self._chip_public = decode_point(curve, bytes(chip_public))
        self._private = random_scalar(curve, rng)
        public = point_mul(curve, self._private, curve.g)
        if public is None:  # pragma: no cover - the scalar is in [1, n-1]
            raise CryptoError("the ephemeral key is the point at infinity")
        self._public = encode_point(curve, public)

    @property
    def ephemeral_public(self) -> bytes:
        """ephPK_PCD, encoded."""
        return self._public

    @property
    def comp_ephemeral(self) -> bytes:
        """Comp(ephPK_PCD): what TA's MSE:Set AT announces and the signature covers."""
        return compress_point(self._public)

    def finish(self, r_picc: bytes, t_picc: bytes) -> tuple[bytes, bytes]:
        """Check the chip's token and return (K_enc, K_mac); :class:`AuthenticationError` if the chip
        does not hold the private key of ``chip_public`` (a clone)."""
        self._start("finish")
        try:
            shared = ecdh_x(self._curve, self._private, self._chip_public)
            k_enc, k_mac = ca_derive_keys(shared, bytes(r_picc), self._key_len)
            expected = ca_token(k_mac, self._oid, self._curve, self._public)
            if not hmac.compare_digest(expected, bytes(t_picc)):
                raise AuthenticationError("Chip Authentication token does not verify (cloned chip?)")
        except CryptoError:
            self._state = CaState.FAILED
            raise
        finally:
            self._private = 0
        self._state = CaState.DONE
        return k_enc, k_mac
