"""PACE with ECDH Generic Mapping (BSI TR-03110-2 §3.4, ICAO 9303-11 §4.4): pure steps and two small
state machines, one per side.

The four GENERAL AUTHENTICATE rounds::

    chip                                   terminal
    z = E(K_pi, s)              ------->   s = D(K_pi, z)
    PK_map,PICC                 <------>   PK_map,PCD          H = SK_map · PK_map,peer
                                           G' = s·G + H
    PK_eph,PICC = SK·G'         <------>   PK_eph,PCD = SK·G'  K = x(SK_eph · PK_eph,peer)
                                           K_enc = KDF(K, 1), K_mac = KDF(K, 2)
    T_PICC = MAC(K_mac, PK_PCD) <------>   T_PCD = MAC(K_mac, PK_PICC)

Points cross the state machines' methods encoded (``04 || X || Y``), as they do in the APDUs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from asn1crypto.core import ObjectIdentifier
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from neweid.crypto.ec import (
    Curve,
    Point,
    decode_point,
    ecdh_x,
    encode_point,
    point_add,
    point_mul,
    random_scalar,
)
from neweid.crypto.errors import AuthenticationError, CryptoError, InvalidPointError
from neweid.crypto.kdf import kdf_enc, kdf_mac, kdf_pi
from neweid.crypto.sm import BLOCK_SIZE, cmac
from neweid.formats.tlv import encode_tlv

_log = logging.getLogger(__name__)

ID_PACE_ECDH_GM_AES_CBC_CMAC_128 = "0.4.0.127.0.7.2.2.4.2.2"
ID_PACE_ECDH_GM_AES_CBC_CMAC_192 = "0.4.0.127.0.7.2.2.4.2.3"
ID_PACE_ECDH_GM_AES_CBC_CMAC_256 = "0.4.0.127.0.7.2.2.4.2.4"

TOKEN_LEN = 8
TAG_PUBLIC_KEY = 0x7F49
TAG_OID = 0x06
TAG_EC_POINT = 0x86


@dataclass(frozen=True)
class PaceSuite:
    """A PACE protocol: its OID and the length of the AES keys it derives."""

    oid: str
    key_len: int

    @property
    def nonce_len(self) -> int:
        """Length of the chip's nonce s: one AES block, as OpenPACE does (a multiple of it is allowed)."""
        return BLOCK_SIZE


PACE_SUITES: tuple[PaceSuite, ...] = (
    PaceSuite(ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 16),
    PaceSuite(ID_PACE_ECDH_GM_AES_CBC_CMAC_192, 24),
    PaceSuite(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, 32),
)
_SUITES = {s.oid: s for s in PACE_SUITES}


def suite_by_oid(oid: str) -> PaceSuite:
    """The PACE suite of a protocol OID; :class:`CryptoError` for any protocol this layer lacks."""
    try:
        return _SUITES[oid]
    except KeyError:
        raise CryptoError(f"unsupported PACE protocol {oid}") from None


# --- passwords ------------------------------------------------------------------------------------


def password_from_can(can: str) -> bytes:
    """The PACE password of a CAN: its ASCII digits (TR-03110-2 §3.4.1)."""
    if not can or not can.isascii() or not can.isdigit():
        raise CryptoError("a CAN consists of ASCII digits")
    return can.encode("ascii")


def password_from_mrz(key_seed: str) -> bytes:
    """The PACE password of the MRZ: SHA-1 of document number ‖ cd ‖ birth ‖ cd ‖ expiry ‖ cd."""
    if not key_seed or not key_seed.isascii():
        raise CryptoError("the MRZ key seed is an ASCII string")
    return hashlib.sha1(key_seed.encode("ascii")).digest()  # noqa: S324 - mandated by ICAO 9303-11


# --- the steps ------------------------------------------------------------------------------------


def _aes_cbc_zero_iv(key: bytes, data: bytes, encrypt: bool) -> bytes:
    if len(key) not in (16, 24, 32):
        raise CryptoError("K_pi must be 16, 24 or 32 bytes")
    if not data or len(data) % BLOCK_SIZE:
        raise CryptoError("the PACE nonce must be a positive multiple of 16 bytes")
    cipher = Cipher(algorithms.AES(key), modes.CBC(bytes(BLOCK_SIZE)))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(bytes(data)) + ctx.finalize()


def encrypt_nonce(k_pi: bytes, s: bytes) -> bytes:
    """z = AES-CBC(K_pi, s) with a zero IV, no padding."""
    return _aes_cbc_zero_iv(k_pi, s, encrypt=True)


def decrypt_nonce(k_pi: bytes, z: bytes) -> bytes:
    """s = AES-CBC⁻¹(K_pi, z) with a zero IV."""
    return _aes_cbc_zero_iv(k_pi, z, encrypt=False)


def mapping_point(curve: Curve, private: int, peer: Point) -> Point:
    """H = private · PK_map,peer; the peer key must be valid and H finite."""
    h = point_mul(curve, private, _checked(curve, peer))
    if h is None:
        raise InvalidPointError("the mapping point H is the point at infinity")
    return h


def map_generator(curve: Curve, nonce: bytes, shared: Point) -> Point:
    """The ephemeral generator G' = s·G + H of the Generic Mapping, s = int(nonce)."""
    s = int.from_bytes(nonce, "big")
    g_prime = point_add(curve, point_mul(curve, s, curve.g), _checked(curve, shared))
    if g_prime is None:
        raise InvalidPointError("the mapped generator is the point at infinity")
    return g_prime


def shared_secret(curve: Curve, private: int, peer: Point) -> bytes:
    """K = x(private · PK_eph,peer) as ``curve.byte_len`` bytes."""
    return ecdh_x(curve, private, _checked(curve, peer))


def derive_session_keys(shared: bytes, key_len: int) -> tuple[bytes, bytes]:
    """(K_enc, K_mac) = (KDF(K, 1), KDF(K, 2))."""
    return kdf_enc(shared, key_len), kdf_mac(shared, key_len)


def public_key_data(oid: str, curve: Curve, point: Point) -> bytes:
    """The public key data object ``7F49 { 06 OID, 86 04||X||Y }`` that the tokens are computed over."""
    try:
        oid_der = ObjectIdentifier(oid).dump()
    except ValueError as exc:
        raise CryptoError(f"invalid object identifier {oid!r}") from exc
    return encode_tlv(TAG_PUBLIC_KEY, oid_der + encode_tlv(TAG_EC_POINT, encode_point(curve, point)))


def authentication_token(k_mac: bytes, oid: str, curve: Curve, peer_public: Point) -> bytes:
    """T = first 8 bytes of CMAC(K_mac, public key data of the PEER's ephemeral key)."""
    return cmac(k_mac, public_key_data(oid, curve, peer_public))[:TOKEN_LEN]


def verify_token(k_mac: bytes, oid: str, curve: Curve, own_public: Point, token: bytes) -> None:
    """Check the peer's token, which is computed over OUR ephemeral public key (constant-time)."""
    expected = authentication_token(k_mac, oid, curve, own_public)
    if not hmac.compare_digest(expected, bytes(token)):
        raise AuthenticationError("PACE authentication token does not verify (wrong password?)")


def _finite(point: Point | None) -> Point:
    """``point`` itself; :class:`CryptoError` for the point at infinity (or a missing point)."""
    if point is None:
        raise CryptoError("unexpected point at infinity")
    return point


def _checked(curve: Curve, point: Point) -> Point:
    """Validate a point given as a tuple (decode_point validates encoded ones)."""
    return decode_point(curve, encode_point(curve, point))


# --- the state machines ---------------------------------------------------------------------------


class PaceState(Enum):
    """Where a PACE run is. Each side moves forward only; any error leaves it FAILED."""

    INITIAL = "initial"
    NONCE = "nonce"  # chip: nonce sent / terminal: nonce decrypted, mapping key sent
    MAPPED = "mapped"  # generator mapped, ephemeral key pair made
    AGREED = "agreed"  # shared secret and session keys derived
    DONE = "done"
    FAILED = "failed"


class _PaceParty:
    def __init__(
        self,
        curve: Curve,
        suite: PaceSuite,
        password: bytes,
        rng: Callable[[int], bytes],
    ) -> None:
        self._curve = curve
        self._suite = suite
        self._k_pi = kdf_pi(password, suite.key_len)
        self._rng = rng
        self._state = PaceState.INITIAL
        self._nonce = b""
        self._map_private = 0
        self._generator: Point | None = None
        self._eph_private = 0
        self._eph_public: Point | None = None
        self._peer_eph_public: Point | None = None
        self._k_enc = b""
        self._k_mac = b""

    @property
    def state(self) -> PaceState:
        return self._state

    def _expect(self, state: PaceState, step: str) -> None:
        if self._state is not state:
            current = self._state
            self._state = PaceState.FAILED
            raise CryptoError(f"PACE step {step!r} is not allowed in state {current.value}")

    def _fail(self) -> None:
        self._state = PaceState.FAILED
        self._k_enc = self._k_mac = b""

    def _map(self, peer_mapping_pub: bytes) -> None:
        peer = decode_point(self._curve, peer_mapping_pub)
        h = mapping_point(self._curve, self._map_private, peer)
        self._generator = map_generator(self._curve, self._nonce, h)
        self._map_private = 0
        self._eph_private = random_scalar(self._curve, self._rng)
        self._eph_public = _finite(point_mul(self._curve, self._eph_private, self._generator))

    def _agree(self, peer_eph_pub: bytes) -> None:
        peer = decode_point(self._curve, peer_eph_pub)
        if peer == self._eph_public:
            raise InvalidPointError("the peer's ephemeral public key equals ours")
        k = shared_secret(self._curve, self._eph_private, peer)
        self._eph_private = 0
        self._peer_eph_public = peer
        self._k_enc, self._k_mac = derive_session_keys(k, self._suite.key_len)

    def _own_token(self) -> bytes:
        peer = _finite(self._peer_eph_public)
        return authentication_token(self._k_mac, self._suite.oid, self._curve, peer)

    def _check_peer_token(self, token: bytes) -> None:
        verify_token(self._k_mac, self._suite.oid, self._curve, _finite(self._eph_public), token)


class PaceTerminal(_PaceParty):
    """The terminal (PCD) side: ``start(z)``, ``map(chip_map_pub)``, ``agree(chip_eph_pub)``,
    ``finish(t_picc)``. Any error moves it to FAILED; out-of-order calls raise :class:`CryptoError`."""

    def start(self, z: bytes) -> bytes:
        """Decrypt the chip's nonce; returns our mapping public key PK_map,PCD (encoded)."""
        self._expect(PaceState.INITIAL, "start")
        try:
            self._nonce = decrypt_nonce(self._k_pi, z)
            self._map_private = random_scalar(self._curve, self._rng)
            public = _finite(point_mul(self._curve, self._map_private, self._curve.g))
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.NONCE
        return encode_point(self._curve, public)

    def map(self, chip_mapping_pub: bytes) -> bytes:
        """Map the generator; returns our ephemeral public key PK_eph,PCD (encoded)."""
        self._expect(PaceState.NONCE, "map")
        try:
            self._map(chip_mapping_pub)
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.MAPPED
        return encode_point(self._curve, _finite(self._eph_public))

    def agree(self, chip_eph_pub: bytes) -> bytes:
        """Key agreement and key derivation; returns our token T_PCD (over the chip's key)."""
        self._expect(PaceState.MAPPED, "agree")
        try:
            self._agree(chip_eph_pub)
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.AGREED
        return self._own_token()

    def finish(self, t_picc: bytes) -> tuple[bytes, bytes]:
        """Verify the chip's token; returns (K_enc, K_mac). AuthenticationError if it is wrong."""
        self._expect(PaceState.AGREED, "finish")
        try:
            self._check_peer_token(t_picc)
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.DONE
        _log.debug("PACE terminal side completed (%s, %s)", self._suite.oid, self._curve.name)
        return self._k_enc, self._k_mac


class PaceChip(_PaceParty):
    """The chip (PICC) side: ``nonce()``, ``map(pcd_map_pub)``, ``agree(pcd_eph_pub)``,
    ``finish(t_pcd)``. Any error moves it to FAILED; out-of-order calls raise :class:`CryptoError`."""

    def nonce(self) -> bytes:
        """Draw the nonce s; returns z = E(K_pi, s)."""
        self._expect(PaceState.INITIAL, "nonce")
        self._nonce = self._rng(self._suite.nonce_len)
        if len(self._nonce) != self._suite.nonce_len:
            self._fail()
            raise CryptoError("random source returned the wrong number of bytes")
        self._state = PaceState.NONCE
        return encrypt_nonce(self._k_pi, self._nonce)

    def map(self, pcd_mapping_pub: bytes) -> bytes:
        """Map the generator; returns our mapping public key PK_map,PICC (encoded)."""
        self._expect(PaceState.NONCE, "map")
        try:
            self._map_private = random_scalar(self._curve, self._rng)
            public = _finite(point_mul(self._curve, self._map_private, self._curve.g))
            self._map(pcd_mapping_pub)
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.MAPPED
        return encode_point(self._curve, public)

    def agree(self, pcd_eph_pub: bytes) -> bytes:
        """Key agreement; returns our ephemeral public key PK_eph,PICC (encoded). Rejects a terminal
        key equal to ours."""
        self._expect(PaceState.MAPPED, "agree")
        try:
            self._agree(pcd_eph_pub)
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.AGREED
        return encode_point(self._curve, _finite(self._eph_public))

    def finish(self, t_pcd: bytes) -> tuple[bytes, bytes, bytes]:
        """Verify the terminal's token; returns (T_PICC, K_enc, K_mac). AuthenticationError if wrong."""
        self._expect(PaceState.AGREED, "finish")
        try:
            self._check_peer_token(t_pcd)
        except CryptoError:
            self._fail()
            raise
        self._state = PaceState.DONE
        _log.debug("PACE chip side completed (%s, %s)", self._suite.oid, self._curve.name)
        return self._own_token(), self._k_enc, self._k_mac
