"""Test doubles for neweid.terminal (imported by the other test_terminal_* modules; holds no tests).

- :class:`ScriptedTransport`: replays expected command APDUs and canned responses, then optionally
  hands over to a responder; records everything sent.
- :class:`MiniChip`: a deliberately small chip-side responder built from neweid.crypto only (PaceChip,
  SecureMessaging card side) and a dict of files, so the session's PACE and SM paths can be unit-tested
  byte for byte without neweid.card.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable

from neweid.crypto.ec import NIST_P521
from neweid.crypto.errors import AuthenticationError, CryptoError, SecureMessagingError
from neweid.crypto.pace import (
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    PaceChip,
    password_from_can,
    suite_by_oid,
)
from neweid.crypto.sm import SecureMessaging
from neweid.formats.filemap import Interface
from neweid.formats.security_infos import PACEInfo, encode_security_infos
from neweid.formats.tlv import encode_tlv, find_tlv, parse_tlvs

# T=1 ATR announcing extended Lc/Le (third card-capability byte C0), as neweid.card answers.
ATR_EXTENDED = bytes.fromhex("3B8780018073C800C031FE32")
ATR_SHORT_ONLY = bytes.fromhex("3B8780018073C8008031FE72")  # chaining only, no extended length
CARD_ACCESS = encode_security_infos([PACEInfo(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, 2, 18)])

Responder = Callable[[bytes], bytes]


class ScriptedTransport:
    """A transport that checks the APDUs it is given against a script."""

    def __init__(self, script: list[tuple[bytes | None, bytes]] | None = None, *,
                 responder: Responder | None = None, interface: Interface = Interface.CONTACT,
                 atr: bytes = ATR_EXTENDED) -> None:
        self._script = deque(script or [])
        self._responder = responder
        self._interface = interface
        self._atr = atr
        self.sent: list[bytes] = []
        self.closed = False

    @property
    def interface(self) -> Interface:
        return self._interface

    @property
    def atr(self) -> bytes:
        return self._atr

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(bytes(apdu))
        if self._script:
            expected, response = self._script.popleft()
            if expected is not None:
                assert apdu.hex().upper() == expected.hex().upper(), "unexpected APDU"
            return response
        if self._responder is None:
            raise AssertionError(f"APDU after the end of the script: {apdu.hex()}")
        return self._responder(apdu)

    def uid(self) -> bytes | None:
        return None

    def close(self) -> None:
        self.closed = True

    @property
    def exhausted(self) -> bool:
        return not self._script


def sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


class MiniChip:
    """Chip side of PACE (CAN only) + SM + READ BINARY over a few files, for session unit tests.

    ``files`` maps an SFI to the file content in the current application (SFI 1C: EF.CardAccess).
    ``hooks`` maps an INS to a function ``(p1, p2, data) -> (data, sw)`` for protected commands."""

    def __init__(self, can: str = "123456", *, files: dict[int, bytes] | None = None,
                 rng: Callable[[int], bytes] = os.urandom) -> None:
        self.password = password_from_can(can)
        self.files = {0x1C: CARD_ACCESS, **(files or {})}
        self.rng = rng
        self.pace: PaceChip | None = None
        self.sm: SecureMessaging | None = None
        self.current: int | None = None
        self.hooks: dict[int, Callable[[int, int, bytes], tuple[bytes, int]]] = {}
        self.log: list[tuple[int, int, int, int, bytes, int | None]] = []  # plain view of commands

    def __call__(self, apdu: bytes) -> bytes:
        cla, ins, p1, p2 = apdu[:4]
        data, ne, extended = _split(apdu)
        if cla & 0x0C:
            if self.sm is None:
                return sw(0x6988)
            try:
                data, ne = self.sm.unwrap_command(cla & ~0x0C, ins, p1, p2, data, extended)
            except SecureMessagingError:
                self.sm = None
                return sw(0x6988)
            out, status = self._handle(cla & ~0x0C, ins, p1, p2, data, ne)
            return self.sm.wrap_response(out, status)
        self.sm = None  # a plain command ends the SM session
        out, status = self._handle(cla, ins, p1, p2, data, ne)
        return out + sw(status)

    def _handle(self, cla: int, ins: int, p1: int, p2: int, data: bytes, ne: int | None) -> tuple[bytes, int]:
        self.log.append((cla, ins, p1, p2, data, ne))
        if ins in self.hooks:
            return self.hooks[ins](p1, p2, data)
        if ins == 0xA4:
            return b"", 0x9000
        if ins == 0xB0:
            if p1 & 0x80:
                self.current, offset = p1 & 0x1F, p2
            else:
                offset = (p1 << 8) | p2
            content = self.files.get(self.current or -1)
            if content is None:
                return b"", 0x6A82
            if offset > len(content):
                return b"", 0x6B00
            chunk = content[offset:offset + (ne or 256)]
            return chunk, 0x9000 if len(chunk) == (ne or 256) else 0x6282
        if ins == 0x22:
            self.pace = PaceChip(NIST_P521, suite_by_oid(ID_PACE_ECDH_GM_AES_CBC_CMAC_256), self.password,
                                 self.rng)
            return b"", 0x9000
        if ins == 0x86:
            return self._ga(data)
        return b"", 0x6D00

    def _ga(self, data: bytes) -> tuple[bytes, int]:
        assert self.pace is not None
        inner = parse_tlvs(parse_tlvs(data)[0].value)
        try:
            if not inner:
                return encode_tlv(0x7C, encode_tlv(0x80, self.pace.nonce())), 0x9000
            item = inner[0]
            if item.tag == 0x81:
                return encode_tlv(0x7C, encode_tlv(0x82, self.pace.map(item.value))), 0x9000
            if item.tag == 0x83:
                return encode_tlv(0x7C, encode_tlv(0x84, self.pace.agree(item.value))), 0x9000
            t_picc, k_enc, k_mac = self.pace.finish(item.value)
        except AuthenticationError:
            return b"", 0x6300
        except CryptoError:
            return b"", 0x6A80
        self.sm = SecureMessaging(k_enc, k_mac)
        return encode_tlv(0x7C, encode_tlv(0x86, t_picc)), 0x9000


def _split(apdu: bytes) -> tuple[bytes, int | None, bool]:
    body = apdu[4:]
    if not body:
        return b"", None, False
    if len(body) == 1:
        return b"", body[0] or 256, False
    if body[0] != 0:
        lc = body[0]
        rest = body[1 + lc:]
        return body[1:1 + lc], (rest[0] or 256) if rest else None, False
    if len(body) == 3:
        return b"", int.from_bytes(body[1:], "big") or 65536, True
    lc = int.from_bytes(body[1:3], "big")
    rest = body[3 + lc:]
    return body[3:3 + lc], (int.from_bytes(rest, "big") or 65536) if rest else None, True


def find_in_template(data: bytes, tag: int) -> bytes | None:
    item = find_tlv(parse_tlvs(data), tag)
    return None if item is None else item.value
