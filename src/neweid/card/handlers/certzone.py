"""The citizen-certificate zone's key operations (CARD-5, CARD-6; docs/eac-profile.md "Certificate
zone"): MSE:Set DST / CT / AT with key reference ``84``, PSO: COMPUTE DIGITAL SIGNATURE, PSO: DECIPHER,
ECDH through GENERAL AUTHENTICATE, and reading a public key (GENERATE ASYMMETRIC KEY PAIR P1 ``81``).

Operational: contact interface (``6985``), secure messaging and PIN2 verified in this session
(``6982``). During personalisation (contact only) signing works without PIN2, so the production line can
sign certificate requests with the on-card keys. A key used for the other purpose answers ``6985``.
No command ever returns a private key.
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from neweid.card.apdu import CommandApdu
from neweid.card.eac import CERT_ZONE_KEYS, SIGNING_KEYS
from neweid.card.errors import CardError
from neweid.card.handlers.ta import parse_dos
from neweid.card.keys import load_private_key, public_key_do
from neweid.card.state import CardContext
from neweid.crypto.aa import der_to_plain
from neweid.crypto.errors import CryptoError
from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import KeyRef, PinRef, StatusWord
from neweid.formats.tlv import Tlv, encode_tlv, find_tlv

_log = logging.getLogger(__name__)

TAG_KEY_REF = 0x84
TAG_DYNAMIC_AUTH = 0x7C
TAG_PEER_KEY = 0x85
TAG_SHARED = 0x82
PADDING_INDICATOR_NONE = 0x00  # PSO: DECIPHER data field: 00 ‖ RSA cryptogram
P1_READ_PUBLIC = 0x81

# DER DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017 §9.2, note 1): the hash follows.
_DIGEST_INFO: dict[bytes, hashes.HashAlgorithm] = {
    bytes.fromhex("3031300d060960864801650304020105000420"): hashes.SHA256(),
    bytes.fromhex("3041300d060960864801650304020205000430"): hashes.SHA384(),
    bytes.fromhex("3051300d060960864801650304020305000440"): hashes.SHA512(),
}
_EC_HASHES: dict[int, hashes.HashAlgorithm] = {32: hashes.SHA256(), 48: hashes.SHA384(), 64: hashes.SHA512()}


def require_channel(ctx: CardContext) -> None:
    """Contact interface; once operational, secure messaging."""
    if ctx.session.interface is not Interface.CONTACT:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "contact interface required")
    if ctx.operational and ctx.session.sm is None:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "secure messaging required")


def _require_use(ctx: CardContext) -> None:
    """A private-key operation: the channel and, once operational, PIN2 verified in this session."""
    require_channel(ctx)
    if ctx.operational and PinRef.PIN2 not in ctx.session.verified:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "PIN2 not verified")


def _key_ref(items: list[Tlv]) -> KeyRef:
    ref = find_tlv(items, TAG_KEY_REF)
    if ref is None or len(ref.value) != 1:
        raise CardError(StatusWord.WRONG_DATA, "MSE needs DO 84 with a one-byte key reference")
    if ref.value[0] not in {int(k) for k in CERT_ZONE_KEYS}:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"no key {ref.value[0]:02X}")
    return KeyRef(ref.value[0])


def _select(ctx: CardContext, items: list[Tlv]) -> KeyRef:
    require_channel(ctx)
    ref = _key_ref(items)
    if ref not in ctx.persistent.cert_keys:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"{ref.name} not generated")
    return ref


def set_dst(ctx: CardContext, items: list[Tlv]) -> bytes:
    """MSE:Set DST ``41B6 {84 ref}``: the key of the next PSO: COMPUTE DIGITAL SIGNATURE."""
    ctx.session.eac.se.sign = _select(ctx, items)
    return b""


def set_ct(ctx: CardContext, items: list[Tlv]) -> bytes:
    """MSE:Set CT ``41B8 {84 ref}``: the key of the next PSO: DECIPHER."""
    ctx.session.eac.se.decipher = _select(ctx, items)
    return b""


def set_at(ctx: CardContext, items: list[Tlv]) -> bytes:
    """MSE:Set AT ``41A4 {84 ref}``: the key of the next ECDH GENERAL AUTHENTICATE."""
    eac = ctx.session.eac
    eac.se.agree = _select(ctx, items)
    eac.ca.selected = False
    return b""


def _selected(ctx: CardContext, ref: KeyRef | None, allowed: frozenset[KeyRef]) -> bytes:
    if ref is None:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "no key selected (MSE)")
    if ref not in allowed:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, f"{ref.name} is not for this operation")
    der = ctx.persistent.cert_keys.get(ref)
    if der is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"{ref.name} not generated")
    return der


def compute_digital_signature(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """RSA: PKCS#1 v1.5 over a DER DigestInfo; EC: ECDSA over the hash, answered as plain r ‖ s."""
    _require_use(ctx)
    key = load_private_key(_selected(ctx, ctx.session.eac.se.sign, SIGNING_KEYS))
    data = apdu.data
    if isinstance(key, rsa.RSAPrivateKey):
        prefix, digest = data[:19], data[19:]
        algorithm = _DIGEST_INFO.get(prefix)
        if algorithm is None or len(digest) != algorithm.digest_size:
            raise CardError(StatusWord.WRONG_DATA, "expected a DER DigestInfo (SHA-256/384/512)")
        return key.sign(digest, padding.PKCS1v15(), Prehashed(algorithm))
    algorithm = _EC_HASHES.get(len(data))
    if algorithm is None:
        raise CardError(StatusWord.WRONG_DATA, "expected a SHA-256/384/512 hash")
    der = key.sign(data, ec.ECDSA(Prehashed(algorithm)))
    try:
        return der_to_plain(der, (key.curve.key_size + 7) // 8)
    except CryptoError:  # pragma: no cover - OpenSSL always produces a well-formed signature
        raise CardError(StatusWord.UNKNOWN_ERROR, "signature encoding failed") from None


def decipher(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """PSO: DECIPHER ``00 ‖ RSA cryptogram`` → plaintext (PKCS#1 v1.5).

    A cryptogram of the wrong length or not below the modulus answers ``6A80``. A padding error does
    not: OpenSSL's implicit rejection returns a pseudo-random plaintext instead, so the card is no
    Bleichenbacher padding oracle."""
    _require_use(ctx)
    key = load_private_key(_selected(ctx, ctx.session.eac.se.decipher, frozenset({KeyRef.RSA_ENCRYPT})))
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - ref 11 is always an RSA key
        raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "not an RSA key")
    data = apdu.data
    size = (key.key_size + 7) // 8
    if len(data) != 1 + size or data[0] != PADDING_INDICATOR_NONE:
        raise CardError(StatusWord.WRONG_DATA, f"expected 00 followed by a {size}-byte cryptogram")
    if int.from_bytes(data[1:], "big") >= key.public_key().public_numbers().n:
        raise CardError(StatusWord.WRONG_DATA, "cryptogram not below the modulus")
    try:
        return key.decrypt(data[1:], padding.PKCS1v15())
    except ValueError:
        raise CardError(StatusWord.WRONG_DATA, "decryption failed") from None


def key_agreement(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """ECDH with the key-agreement key: ``7C{85 peer point}`` → ``7C{82 x(SK·peer)}``."""
    _require_use(ctx)
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "GENERAL AUTHENTICATE P1P2 must be 0000")
    key = load_private_key(_selected(ctx, ctx.session.eac.se.agree, frozenset({KeyRef.EC_KEY_AGREEMENT})))
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - ref 13 is always EC
        raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "not an EC key")
    outer = parse_dos(apdu.data)
    if len(outer) != 1 or outer[0].tag != TAG_DYNAMIC_AUTH:
        raise CardError(StatusWord.WRONG_DATA, "expected one DO 7C")
    peer_do = find_tlv(parse_dos(outer[0].value), TAG_PEER_KEY)
    if peer_do is None:
        raise CardError(StatusWord.WRONG_DATA, "expected DO 7C {85 peer public key}")
    try:
        peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, peer_do.value)
        shared = key.exchange(ec.ECDH(), peer)
    except ValueError:
        raise CardError(StatusWord.WRONG_DATA, "invalid peer public key") from None
    return encode_tlv(TAG_DYNAMIC_AUTH, encode_tlv(TAG_SHARED, shared))


def read_public_key(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """GENERATE ASYMMETRIC KEY PAIR P1 ``81``: the existing public key of ``P2`` (``6A88`` if none)."""
    require_channel(ctx)
    state = ctx.persistent
    stored: dict[int, bytes | None] = {
        KeyRef.ACTIVE_AUTHENTICATION: state.aa_key, KeyRef.CHIP_AUTHENTICATION: state.ca_key,
        **{int(ref): der for ref, der in state.cert_keys.items()},
    }
    der = stored.get(apdu.p2)
    if der is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"no key {apdu.p2:02X}")
    return public_key_do(der)
