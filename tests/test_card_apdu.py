"""APDU parsing (ISO/IEC 7816-3 cases 1..4E), the dispatcher's CLA rules and robustness of transmit()."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neweid.card import Interface, VirtualCard
from neweid.card.apdu import CardError, CommandApdu, encode, parse
from neweid.card.atr import ATR
from neweid.formats.iso7816 import StatusWord
from tests.test_card_support import OK, personalised_card, session, split


@pytest.mark.parametrize(("raw", "expected"), [
    ("00A40000", CommandApdu(0x00, 0xA4, 0, 0)),  # case 1
    ("00B0000010", CommandApdu(0x00, 0xB0, 0, 0, b"", 16)),  # 2S
    ("00B0000000", CommandApdu(0x00, 0xB0, 0, 0, b"", 256)),  # 2S, Le 00 = 256
    ("00A4000C023F00", CommandApdu(0x00, 0xA4, 0, 0x0C, b"\x3f\x00")),  # 3S
    ("00A40004023F0000", CommandApdu(0x00, 0xA4, 0, 4, b"\x3f\x00", 256)),  # 4S
    ("00B00000000400", CommandApdu(0x00, 0xB0, 0, 0, b"", 1024, True)),  # 2E
    ("00B00000000000", CommandApdu(0x00, 0xB0, 0, 0, b"", 65536, True)),  # 2E, Le 0000 = 65536
    ("00D60000000003AABBCC", CommandApdu(0x00, 0xD6, 0, 0, b"\xaa\xbb\xcc", None, True)),  # 3E
    ("008800000000020102" "0000", CommandApdu(0x00, 0x88, 0, 0, b"\x01\x02", 65536, True)),  # 4E
])
def test_parse_cases(raw: str, expected: CommandApdu) -> None:
    assert parse(bytes.fromhex(raw)) == expected


@pytest.mark.parametrize("raw", [
    "", "00", "00A400",  # shorter than a header
    "00A4000C03AABB",  # Lc 3, 2 bytes
    "00A4000C02AABBCCDD",  # Lc 2, 3 bytes follow + 1 (neither 3S nor 4S)
    "00B0000000AA",  # 6 bytes starting with 00: broken extended field
    "00B000000000",  # extended, truncated Le
    "00D600000000000102",  # extended Lc 0000
    "00D60000000005AABB",  # extended Lc 5, 2 bytes
])
def test_parse_malformed(raw: str) -> None:
    with pytest.raises(CardError) as info:
        parse(bytes.fromhex(raw))
    assert info.value.status_word == StatusWord.WRONG_LENGTH


@st.composite
def command_apdus(draw: st.DrawFn) -> CommandApdu:
    extended = draw(st.booleans())
    limit = 65535 if extended else 255
    data = draw(st.binary(min_size=0, max_size=min(limit, 600)))
    ne = draw(st.one_of(st.none(), st.integers(1, 65536 if extended else 256)))
    if not data and ne is None:
        extended = False  # case 1 has no length fields to tell
    cla, ins, p1, p2 = (draw(st.integers(0, 255)) for _ in range(4))
    return CommandApdu(cla, ins, p1, p2, data, ne, extended)


@given(command_apdus())
def test_encode_parse_round_trip(apdu: CommandApdu) -> None:
    assert parse(encode(apdu)) == apdu


def test_atr_is_t1_with_extended_length_and_correct_tck() -> None:
    assert ATR[0] == 0x3B
    t0 = ATR[1]
    historical = ATR[-1 - (t0 & 0x0F):-1]
    assert historical[0] == 0x80  # category indicator: compact-TLV
    caps = historical[historical.index(0x73) + 1:][:3]
    assert caps[2] & 0x40  # extended Lc/Le
    assert ATR[3] & 0x0F == 1  # TD2 announces T=1
    tck = 0
    for byte in ATR[1:]:
        tck ^= byte
    assert tck == 0  # XOR of T0..TCK is zero


@pytest.mark.parametrize(("cla", "sw"), [
    (0x80, StatusWord.CLA_NOT_SUPPORTED),
    (0x40, StatusWord.CLA_NOT_SUPPORTED),
    (0x01, StatusWord.LOGICAL_CHANNEL_NOT_SUPPORTED),
    (0x08, StatusWord.SECURE_MESSAGING_NOT_SUPPORTED),
])
def test_bad_class(cla: int, sw: int) -> None:
    card, _ = personalised_card()
    term = session(card)
    assert term.plain(cla, 0xA4, 0, 0x0C, b"\x3f\x00")[1] == sw


def test_unknown_instruction_and_chaining_of_other_instructions() -> None:
    card, _ = personalised_card()
    term = session(card)
    assert term.plain(0x00, 0x50, 0, 0)[1] == StatusWord.INS_NOT_SUPPORTED
    assert term.plain(0x10, 0xA4, 0, 0x0C, b"\x3f\x00")[1] == StatusWord.COMMAND_CHAINING_NOT_SUPPORTED
    assert term.plain(0x00, 0xA4, 0, 0x0C, b"\x3f\x00")[1] == OK


def test_sm_command_without_session_is_6988() -> None:
    card, _ = personalised_card()
    term = session(card)
    assert term.send(bytes.fromhex("0CA4000C00"))[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_powered_off_card_answers_6985() -> None:
    card, _ = personalised_card()
    assert card.transmit(bytes.fromhex("00A4000C023F00")) == b"\x69\x85"
    assert card.uid is None and card.interface is None


def test_internal_error_becomes_6f00(monkeypatch: pytest.MonkeyPatch) -> None:
    from neweid.card import handlers

    def broken(ctx: object, apdu: object) -> bytes:
        raise RuntimeError("boom")

    card, _ = personalised_card()
    term = session(card)
    monkeypatch.setitem(handlers.HANDLERS, 0xA4, broken)
    assert term.plain(0x00, 0xA4, 0, 0x0C, b"\x3f\x00")[1] == StatusWord.UNKNOWN_ERROR


_CARD: VirtualCard | None = None


def _shared_card() -> VirtualCard:
    global _CARD
    if _CARD is None:
        _CARD, _ = personalised_card()
    return _CARD


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300), contactless=st.booleans(), pace=st.booleans())
def test_transmit_never_raises(raw: bytes, contactless: bool, pace: bool) -> None:
    card = _shared_card()
    term = session(card, Interface.CONTACTLESS if contactless else Interface.CONTACT, pace=pace)
    data, sw = split(card.transmit(raw))
    assert 0x6000 <= sw <= 0x6FFF or 0x9000 <= sw <= 0x9FFF
    if term.sm is not None and len(raw) >= 4 and raw[0] in (0x0C, 0x1C) and sw != 0x6700:
        # random bytes never carry a valid MAC: a plain 6987/6988 and the session ends
        assert data == b"" and sw in (0x6987, 0x6988)


@settings(deadline=None)
@given(header=st.binary(min_size=4, max_size=4), body=st.binary(max_size=40))
def test_transmit_never_raises_structured(header: bytes, body: bytes) -> None:
    """Valid framing with arbitrary header and data reaches every handler."""
    card = _shared_card()
    card.power_on(Interface.CONTACT)
    raw = header + (bytes([len(body)]) + body if body else b"")
    _, sw = split(card.transmit(raw))
    assert sw >> 8 in (0x61, 0x62, 0x63, 0x65, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6D, 0x6E, 0x6F, 0x90)
