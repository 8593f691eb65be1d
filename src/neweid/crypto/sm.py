"""AES secure messaging (ICAO 9303-11 §9.8, BSI TR-03110-3 F), both the terminal and the card side.

A command is protected as ``CLA|0C INS P1 P2 Lc [DO87|DO85] [DO97] DO8E Le``; a response as
``[DO87] DO99 DO8E SW1 SW2``. Encryption is AES-CBC with ``IV = AES-ECB(K_enc, SSC)``, the MAC is
AES-CMAC truncated to 8 bytes over ``SSC || padded header || padded data objects`` (the header only for
commands), padding is ISO/IEC 9797-1 method 2. Both sides increment the 16-byte send sequence counter
before each MAC computation, so a replayed or reordered message fails the MAC check.
"""

from __future__ import annotations

import hmac
import logging

from cryptography.hazmat.primitives import cmac as _cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from neweid.crypto.errors import CryptoError, SecureMessagingError
from neweid.crypto.kdf import KEY_LENGTHS
from neweid.formats.iso7816 import StatusWord, describe_sw
from neweid.formats.tlv import Tlv, TlvError, encode_tlv, parse_tlv

_log = logging.getLogger(__name__)

BLOCK_SIZE = 16
MAC_LEN = 8
SM_CLA_BITS = 0x0C  # "proprietary SM format, command header authenticated" (ISO/IEC 7816-4 5.4.1)

TAG_CRYPTOGRAM_ODD_INS = 0x85  # cryptogram, plain value BER-TLV encoded (odd INS)
TAG_CRYPTOGRAM = 0x87  # padding-content indicator byte followed by the cryptogram
TAG_LE = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E
PADDING_INDICATOR = 0x01  # ISO/IEC 9797-1 padding method 2

_SSC_MODULUS = 1 << (8 * BLOCK_SIZE)
_MAX_SHORT_LC = 255
_MAX_EXTENDED_LC = 65535
_MAX_NE = 65536


def pad(data: bytes, block: int = BLOCK_SIZE) -> bytes:
    """ISO/IEC 9797-1 padding method 2: append 80 and then 00 up to a multiple of ``block``."""
    padded = bytes(data) + b"\x80"
    return padded + b"\x00" * (-len(padded) % block)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 9797-1 method 2 padding; :class:`SecureMessagingError` if it is malformed."""
    stripped = bytes(data).rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= BLOCK_SIZE:
        raise SecureMessagingError("invalid padding")
    return stripped[:-1]


def cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B) of ``data``, all 16 bytes."""
    _check_key(key)
    mac = _cmac.CMAC(algorithms.AES(key))
    mac.update(bytes(data))
    return mac.finalize()


def _check_key(key: bytes) -> None:
    if len(key) not in KEY_LENGTHS:
        raise CryptoError(f"AES key must be 16, 24 or 32 bytes, not {len(key)}")


def _le_value(le: int, extended: bool) -> bytes:
    """The value of DO97 for an expected length Ne."""
    if extended:
        return (le % _MAX_NE).to_bytes(2, "big")
    return bytes([le % 256])


class SecureMessaging:
    """One secure-messaging session (keys and send sequence counter) for either side of the link."""

    def __init__(self, k_enc: bytes, k_mac: bytes, ssc: int = 0) -> None:
        _check_key(k_enc)
        _check_key(k_mac)
        if not 0 <= ssc < _SSC_MODULUS:
            raise CryptoError("send sequence counter out of range")
        self._k_enc = bytes(k_enc)
        self._k_mac = bytes(k_mac)
        self._ssc = ssc

    def __repr__(self) -> str:  # never show the keys
        return f"SecureMessaging(ssc={self._ssc})"

    @property
    def ssc(self) -> int:
        """The current send sequence counter."""
        return self._ssc

    # --- primitives with the current SSC (no increment) ---------------------------------------------

    def _ssc_block(self) -> bytes:
        return self._ssc.to_bytes(BLOCK_SIZE, "big")

    def _iv(self) -> bytes:
        encryptor = Cipher(algorithms.AES(self._k_enc), modes.ECB()).encryptor()  # noqa: S305
        return encryptor.update(self._ssc_block()) + encryptor.finalize()

    def encrypt(self, data: bytes) -> bytes:
        """Pad and encrypt ``data`` with K_enc and IV = E(K_enc, SSC) at the current SSC."""
        encryptor = Cipher(algorithms.AES(self._k_enc), modes.CBC(self._iv())).encryptor()
        return encryptor.update(pad(data)) + encryptor.finalize()

    def decrypt(self, cryptogram: bytes) -> bytes:
        """Decrypt and unpad a cryptogram at the current SSC."""
        if not cryptogram or len(cryptogram) % BLOCK_SIZE:
            raise SecureMessagingError("cryptogram length is not a positive multiple of the block size")
        decryptor = Cipher(algorithms.AES(self._k_enc), modes.CBC(self._iv())).decryptor()
        return unpad(decryptor.update(bytes(cryptogram)) + decryptor.finalize())

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC over ``SSC || pad(data)`` at the current SSC (``data`` not yet padded)."""
        return cmac(self._k_mac, self._ssc_block() + pad(data))[:MAC_LEN]

    def _increment(self) -> None:
        self._ssc = (self._ssc + 1) % _SSC_MODULUS

    def _verify_mac(self, data: bytes, received: bytes) -> None:
        if not hmac.compare_digest(self.mac(data), received):
            raise SecureMessagingError("MAC verification failed (wrong key, tampering or replay)")

    # --- terminal side -------------------------------------------------------------------------------

    def wrap_command(
        self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None
    ) -> bytes:
        """Protect a command; returns the complete APDU to send (SSC is incremented first)."""
        for name, value in (("CLA", cla), ("INS", ins), ("P1", p1), ("P2", p2)):
            if not 0 <= value <= 0xFF:
                raise CryptoError(f"{name} must be a byte, got {value}")
        if le is not None and not 1 <= le <= _MAX_NE:
            raise CryptoError(f"Le must be between 1 and {_MAX_NE}, got {le}")
        self._increment()
        header = bytes([cla | SM_CLA_BITS, ins, p1, p2])
        crypto_do = b""
        if data:
            cryptogram = self.encrypt(data)
            if ins & 1:
                crypto_do = encode_tlv(TAG_CRYPTOGRAM_ODD_INS, cryptogram)
            else:
                crypto_do = encode_tlv(TAG_CRYPTOGRAM, bytes([PADDING_INDICATOR]) + cryptogram)
        le_do = b"" if le is None else encode_tlv(TAG_LE, _le_value(le, extended=False))
        mac_do_len = 2 + MAC_LEN
        extended = (le is not None and le > 256) or len(crypto_do + le_do) + mac_do_len > _MAX_SHORT_LC
        if extended and le is not None:
            le_do = encode_tlv(TAG_LE, _le_value(le, extended=True))
        dos = crypto_do + le_do
        body = dos + encode_tlv(TAG_MAC, self.mac(pad(header) + dos))
        if len(body) > _MAX_EXTENDED_LC:
            raise CryptoError("command data too long for an extended-length APDU")
        if extended:
            return header + b"\x00" + len(body).to_bytes(2, "big") + body + b"\x00\x00"
        return header + bytes([len(body)]) + body + b"\x00"

    def unwrap_response(self, response: bytes) -> tuple[bytes, int]:
        """Verify and decrypt a protected response; returns (data, SW1SW2)."""
        if len(response) < 2:
            raise SecureMessagingError("response shorter than a status word")
        self._increment()
        sw = int.from_bytes(response[-2:], "big")
        body = bytes(response[:-2])
        if not body:
            if sw in (StatusWord.SM_DATA_OBJECTS_MISSING, StatusWord.SM_DATA_OBJECTS_INCORRECT):
                raise SecureMessagingError(
                    f"card rejected the secure-messaging command: {sw:04X} ({describe_sw(sw)})",
                    StatusWord(sw),
                )
            raise SecureMessagingError(
                f"response {sw:04X} ({describe_sw(sw)}) is not protected by secure messaging",
                StatusWord.SM_DATA_OBJECTS_MISSING,
            )
        objects, mac_start = _parse(body)
        mac_do = _split_mac(objects)
        status_do = next((o for o in objects if o.tag == TAG_STATUS), None)
        if status_do is None:
            raise SecureMessagingError("response lacks DO99", StatusWord.SM_DATA_OBJECTS_MISSING)
        _check_order(objects, (TAG_CRYPTOGRAM, TAG_CRYPTOGRAM_ODD_INS), TAG_STATUS)
        self._verify_mac(body[:mac_start], mac_do.value)
        if len(status_do.value) != 2 or int.from_bytes(status_do.value, "big") != sw:
            raise SecureMessagingError("DO99 does not match the status word of the response")
        return self._decrypt_do(objects), sw

    # --- card side -----------------------------------------------------------------------------------

    def unwrap_command(
        self, cla: int, ins: int, p1: int, p2: int, body: bytes, extended: bool = False
    ) -> tuple[bytes, int | None]:
        """Verify and decrypt a protected command's data field; returns (data, Ne or None).

        ``extended`` tells whether the APDU used extended length fields (then DO97 ``00`` means 65536).
        """
        for name, value in (("CLA", cla), ("INS", ins), ("P1", p1), ("P2", p2)):
            if not 0 <= value <= 0xFF:
                raise SecureMessagingError(f"{name} must be a byte, got {value}")
        self._increment()
        body = bytes(body)
        objects, mac_start = _parse(body)
        mac_do = _split_mac(objects)
        _check_order(objects, (TAG_CRYPTOGRAM, TAG_CRYPTOGRAM_ODD_INS), TAG_LE)
        header = bytes([cla | SM_CLA_BITS, ins, p1, p2])
        self._verify_mac(pad(header) + body[:mac_start], mac_do.value)
        ne: int | None = None
        le_do = next((o for o in objects if o.tag == TAG_LE), None)
        if le_do is not None:
            if len(le_do.value) == 1:
                ne = le_do.value[0] or (_MAX_NE if extended else 256)
            elif len(le_do.value) == 2:
                ne = int.from_bytes(le_do.value, "big") or _MAX_NE
            else:
                raise SecureMessagingError("DO97 must hold one or two bytes")
        return self._decrypt_do(objects), ne

    def wrap_response(self, data: bytes, sw: int) -> bytes:
        """Protect a response: [DO87] DO99 DO8E SW1 SW2 (SSC is incremented first)."""
        if not 0 <= sw <= 0xFFFF:
            raise CryptoError(f"status word out of range: {sw}")
        self._increment()
        sw_bytes = sw.to_bytes(2, "big")
        dos = b""
        if data:
            dos = encode_tlv(TAG_CRYPTOGRAM, bytes([PADDING_INDICATOR]) + self.encrypt(data))
        dos += encode_tlv(TAG_STATUS, sw_bytes)
        return dos + encode_tlv(TAG_MAC, self.mac(dos)) + sw_bytes

    def _decrypt_do(self, objects: list[Tlv]) -> bytes:
        for obj in objects:
            if obj.tag == TAG_CRYPTOGRAM:
                if not obj.value or obj.value[0] != PADDING_INDICATOR:
                    raise SecureMessagingError("DO87 lacks the padding-content indicator 01")
                return self.decrypt(obj.value[1:])
            if obj.tag == TAG_CRYPTOGRAM_ODD_INS:
                return self.decrypt(obj.value)
        return b""


def _parse(body: bytes) -> tuple[list[Tlv], int]:
    """The data objects of an SM body (one-byte tags only) and the offset at which the last one starts
    (the MAC covers everything before the DO8E)."""
    objects: list[Tlv] = []
    start = pos = 0
    while pos < len(body):
        start = pos
        try:
            item, pos = parse_tlv(body, pos)
        except TlvError as exc:
            raise SecureMessagingError(f"malformed secure-messaging data objects: {exc}") from None
        if item.tag > 0xFF:
            raise SecureMessagingError(
                f"malformed secure-messaging data objects: unexpected multi-byte tag at offset {start}"
            )
        objects.append(item)
    return objects, start


def _split_mac(objects: list[Tlv]) -> Tlv:
    """The DO8E, which must be present, last and 8 bytes long."""
    if not objects or objects[-1].tag != TAG_MAC:
        if any(o.tag == TAG_MAC for o in objects):
            raise SecureMessagingError("DO8E is not the last data object")
        raise SecureMessagingError("DO8E (MAC) is missing", StatusWord.SM_DATA_OBJECTS_MISSING)
    mac_do = objects[-1]
    if len(mac_do.value) != MAC_LEN:
        raise SecureMessagingError(f"DO8E must hold {MAC_LEN} bytes")
    return mac_do


def _check_order(objects: list[Tlv], first_tags: tuple[int, ...], second_tag: int) -> None:
    """Objects before DO8E: at most one cryptogram DO, then at most one ``second_tag`` DO."""
    allowed = [first_tags, (second_tag,)]
    position = 0
    for obj in objects[:-1]:
        while position < len(allowed) and obj.tag not in allowed[position]:
            position += 1
        if position == len(allowed):
            raise SecureMessagingError(f"unexpected or misplaced data object {obj.tag:02X}")
        position += 1
