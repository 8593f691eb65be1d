"""Shared helpers of the card tests (no tests here): a deterministic RNG, raw APDU builders, a small
test-only terminal running PACE and secure messaging with neweid.crypto, and personalisation by APDUs."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neweid.card import Interface, VirtualCard
from neweid.card.apdu import CommandApdu, encode
from neweid.crypto.ec import curve_by_param_id
from neweid.crypto.pace import (
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    PaceTerminal,
    password_from_can,
    password_from_mrz,
    suite_by_oid,
)
from neweid.crypto.sm import SecureMessaging
from neweid.formats.filemap import ZONES, Zone, zone_spec
from neweid.formats.iso7816 import PasswordRef, PinRef, PutDataTag
from neweid.formats.tlv import encode_tlv, parse_tlvs

CAN = "123456"
MRZ_SEED = "L898902C<369080619406236"
USER_CODE = "Abc123"
PIN1 = "111111"
PIN2 = "22222222"
PACE_OID_CONTENT = bytes.fromhex("04007F00070202040204")  # 0.4.0.127.0.7.2.2.4.2.4
OK = 0x9000

PUBLIC = zone_spec(Zone.PUBLIC)
HOUSEHOLD = zone_spec(Zone.HOUSEHOLD)
ENCRYPTED = zone_spec(Zone.ENCRYPTED)
CERTIFICATE = zone_spec(Zone.CERTIFICATE)


def seeded_rng(seed: int = 1) -> Callable[[int], bytes]:
    gen = random.Random(seed)
    return gen.randbytes


def apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", ne: int | None = None,
         extended: bool = False) -> bytes:
    return encode(CommandApdu(cla, ins, p1, p2, data, ne, extended))


def split(response: bytes) -> tuple[bytes, int]:
    assert len(response) >= 2
    return response[:-2], int.from_bytes(response[-2:], "big")


def mse_set_at(ref: PasswordRef, oid_content: bytes = PACE_OID_CONTENT) -> bytes:
    return encode_tlv(0x80, oid_content) + encode_tlv(0x83, bytes([ref]))


def ga(inner: bytes) -> bytes:
    return encode_tlv(0x7C, inner)


def ga_value(data: bytes, tag: int) -> bytes:
    (outer,) = parse_tlvs(data)
    assert outer.tag == 0x7C
    (item,) = outer.children()
    assert item.tag == tag
    return item.value


class PaceFailedError(Exception):
    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


@dataclass
class Terminal:
    """A test-only host: raw APDUs to the card, PACE, and SM-wrapped commands."""

    card: VirtualCard
    sm: SecureMessaging | None = None

    def send(self, raw: bytes) -> tuple[bytes, int]:
        return split(self.card.transmit(raw))

    def plain(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", ne: int | None = None,
              extended: bool = False) -> tuple[bytes, int]:
        return self.send(apdu(cla, ins, p1, p2, data, ne, extended))

    def pace(self, ref: PasswordRef = PasswordRef.CAN, secret: str = CAN, seed: int = 7) -> None:
        """Run PACE; on success install SM. Raises PaceFailedError with the status word otherwise."""
        self.sm = None
        password = password_from_can(secret) if ref is PasswordRef.CAN else password_from_mrz(secret)
        term = PaceTerminal(curve_by_param_id(18), suite_by_oid(ID_PACE_ECDH_GM_AES_CBC_CMAC_256),
                            password, seeded_rng(seed))
        _, sw = self.plain(0x00, 0x22, 0xC1, 0xA4, mse_set_at(ref))
        if sw != OK:
            raise PaceFailedError(sw)
        data, sw = self.plain(0x10, 0x86, 0, 0, ga(b""), 256)
        if sw != OK:
            raise PaceFailedError(sw)
        pk_map = term.start(ga_value(data, 0x80))
        data, sw = self.plain(0x10, 0x86, 0, 0, ga(encode_tlv(0x81, pk_map)), 256)
        if sw != OK:
            raise PaceFailedError(sw)
        pk_eph = term.map(ga_value(data, 0x82))
        data, sw = self.plain(0x10, 0x86, 0, 0, ga(encode_tlv(0x83, pk_eph)), 256)
        if sw != OK:
            raise PaceFailedError(sw)
        t_pcd = term.agree(ga_value(data, 0x84))
        data, sw = self.plain(0x00, 0x86, 0, 0, ga(encode_tlv(0x85, t_pcd)), 256)
        if sw != OK:
            raise PaceFailedError(sw)
        k_enc, k_mac = term.finish(ga_value(data, 0x86))
        self.sm = SecureMessaging(k_enc, k_mac)

    def wrap(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
        assert self.sm is not None
        return self.sm.wrap_command(cla, ins, p1, p2, data, le)

    def secure(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"",
               le: int | None = None) -> tuple[bytes, int]:
        """An SM-protected command; returns the unwrapped (data, SW) or the plain SW of an SM error."""
        assert self.sm is not None
        response = self.card.transmit(self.wrap(cla, ins, p1, p2, data, le))
        if len(response) == 2:
            return b"", int.from_bytes(response, "big")
        return self.sm.unwrap_response(response)

    # --- convenience ---

    def select_ef(self, df_fid: int | None, ef_fid: int, secure: bool = False) -> int:
        send = self.secure if secure else self.plain
        if df_fid is not None:
            _, sw = send(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")
            if sw != OK:
                return sw
            _, sw = send(0x00, 0xA4, 0x01, 0x0C, df_fid.to_bytes(2, "big"))
            if sw != OK:
                return sw
        _, sw = send(0x00, 0xA4, 0x02, 0x0C, ef_fid.to_bytes(2, "big"))
        return sw

    def read_all(self, secure: bool = False) -> tuple[bytes, int]:
        send = self.secure if secure else self.plain
        return send(0x00, 0xB0, 0x00, 0x00, b"", 256)

    def verify(self, ref: PinRef, value: str | bytes) -> int:
        raw = value.encode() if isinstance(value, str) else value
        return self.secure(0x00, 0x20, 0x00, ref, raw)[1]


def dummy_content(name: str, size: int) -> bytes:
    return (name.encode() * (size // max(1, len(name)) + 1))[:size]


SAMPLE_FILES: dict[tuple[int | None, int], bytes] = {
    (None, 0x2F00): b"\x61\x0b\x4f\x07" + HOUSEHOLD.aid + b"\x50\x00",
    (None, 0x011C): bytes.fromhex("3112300f060a04007f0007020204020402010202" "0112"),
    (None, 0x011D): dummy_content("cardsecurity", 300),
    (HOUSEHOLD.fid, 0x0101): dummy_content("household-dg1", 40),
    (HOUSEHOLD.fid, 0x011D): dummy_content("household-sod", 500),
    (PUBLIC.fid, 0x0101): dummy_content("name", 60),
    (PUBLIC.fid, 0x0102): b"A123456789",
    (PUBLIC.fid, 0x010A): dummy_content("photo", 3000),
    (PUBLIC.fid, 0x011D): dummy_content("public-sod", 700),
    (ENCRYPTED.fid, 0x0101): dummy_content("spouse", 30),
    (CERTIFICATE.fid, 0x0201): dummy_content("root", 900),
}


def write_file(term: Terminal, df_fid: int | None, ef_fid: int, content: bytes, chunk: int = 200) -> None:
    assert term.select_ef(df_fid, ef_fid) == OK
    for offset in range(0, len(content), chunk):
        part = content[offset:offset + chunk]
        _, sw = term.plain(0x00, 0xD6, offset >> 8, offset & 0xFF, part)
        assert sw == OK, f"{sw:04X}"


def personalise(card: VirtualCard, *, activate: bool = True, pins: bool = True) -> bytes:
    """Personalise ``card`` by APDUs; returns the AA public point (04 ‖ X ‖ Y)."""
    card.power_on(Interface.CONTACT)
    term = Terminal(card)
    for tag, value in ((PutDataTag.CAN, CAN), (PutDataTag.MRZ_KEY_SEED, MRZ_SEED),
                       (PutDataTag.USER_CODE, USER_CODE), (PutDataTag.CARD_DATE, "20260101")):
        _, sw = term.plain(0x00, 0xDA, tag >> 8, tag & 0xFF, value.encode())
        assert sw == OK
    if pins:
        for tag, value in ((PutDataTag.PIN1, PIN1), (PutDataTag.PIN2, PIN2)):
            _, sw = term.plain(0x00, 0xDA, tag >> 8, tag & 0xFF, value.encode())
            assert sw == OK
    data, sw = term.plain(0x00, 0x46, 0x00, 0x01, b"", 256)
    assert sw == OK
    (outer,) = parse_tlvs(data)
    assert outer.tag == 0x7F49
    (point,) = outer.children()
    assert point.tag == 0x86
    for (df_fid, ef_fid), content in SAMPLE_FILES.items():
        write_file(term, df_fid, ef_fid, content)
    if activate:
        _, sw = term.plain(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")
        assert sw == OK
        _, sw = term.plain(0x00, 0x44, 0x00, 0x00)
        assert sw == OK
    card.power_off()
    return point.value


assert {z.zone for z in ZONES} == set(Zone)


def personalised_card(seed: int = 3, path: Path | None = None) -> tuple[VirtualCard, bytes]:
    """A fresh personalised, activated card (in memory unless ``path``) and its AA public point."""
    card = VirtualCard.create(path, rng=seeded_rng(seed))
    return card, personalise(card)


def session(card: VirtualCard, interface: Interface = Interface.CONTACT, *, pace: bool = False) -> Terminal:
    card.power_on(interface)
    term = Terminal(card)
    if pace:
        term.pace()
    return term
