"""Command APDU encoding (short/extended, cases 1-4), responses and the ATR (neweid.terminal)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.terminal.apdu import Response, build_apdu
from neweid.terminal.atr import parse_atr
from neweid.terminal.errors import CardStatusError, InvalidInputError, TransportError


def _parse(apdu: bytes) -> tuple[bytes, bytes, int | None]:
    """An independent ISO 7816-3 §12.1 decoder: (header, data, Ne)."""
    header, body = apdu[:4], apdu[4:]
    if not body:
        return header, b"", None
    if len(body) == 1:
        return header, b"", body[0] or 256
    if body[0] != 0:  # short, case 3S or 4S
        lc = body[0]
        data = body[1:1 + lc]
        rest = body[1 + lc:]
        assert len(data) == lc and len(rest) <= 1
        return header, data, (rest[0] or 256) if rest else None
    if len(body) == 3:  # 2E
        return header, b"", int.from_bytes(body[1:3], "big") or 65536
    lc = int.from_bytes(body[1:3], "big")
    data = body[3:3 + lc]
    rest = body[3 + lc:]
    assert len(data) == lc and len(rest) in (0, 2)
    return header, data, (int.from_bytes(rest, "big") or 65536) if rest else None


@pytest.mark.parametrize(("args", "expected"), [
    ((0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("F04E4549440150")), "00A4040C07F04E4549440150"),  # case 3S
    ((0x00, 0xB0, 0x9C, 0x00, b"", 256), "00B09C0000"),  # case 2S, Le 00 = 256
    ((0x00, 0xB0, 0x00, 0x10, b"", 0xDF), "00B00010DF"),
    ((0x00, 0x20, 0x00, 0x81), "00200081"),  # case 1
    ((0x10, 0x86, 0x00, 0x00, bytes.fromhex("7C00"), 256), "1086000002" "7C00" "00"),  # case 4S
    ((0x00, 0xB0, 0x00, 0xDF, b"", 0x1000), "00B000DF" "00" "1000"),  # case 2E
    ((0x00, 0xB0, 0x00, 0x00, b"", 65536), "00B00000" "00" "0000"),  # 2E, Le 0000 = 65536
    ((0x00, 0xD6, 0x00, 0x00, bytes(300)), "00D60000" "00012C" + "00" * 300),  # case 3E
    ((0x00, 0x88, 0x00, 0x00, bytes(256), 256), "00880000" "000100" + "00" * 256 + "0100"),  # case 4E
])
def test_build_apdu_exact_bytes(args: tuple, expected: str) -> None:
    assert build_apdu(*args).hex().upper() == expected.upper()


def test_build_apdu_forced_extended() -> None:
    assert build_apdu(0, 0xB0, 0, 0, le=10, extended=True).hex() == "00b0000000000a"
    assert build_apdu(0, 0x2C, 3, 0x81, extended=True).hex() == "002c0381"


@pytest.mark.parametrize("kwargs", [
    {"cla": 256, "ins": 0xB0, "p1": 0, "p2": 0},
    {"cla": 0, "ins": -1, "p1": 0, "p2": 0},
    {"cla": 0, "ins": 0xB0, "p1": 0, "p2": 0, "le": 0},
    {"cla": 0, "ins": 0xB0, "p1": 0, "p2": 0, "le": 65537},
    {"cla": 0, "ins": 0xD6, "p1": 0, "p2": 0, "data": bytes(65536)},
    {"cla": 0, "ins": 0xD6, "p1": 0, "p2": 0, "data": bytes(256), "extended": False},
])
def test_build_apdu_rejects_out_of_range(kwargs: dict) -> None:
    with pytest.raises(InvalidInputError):
        build_apdu(**kwargs)


@given(header=st.binary(min_size=4, max_size=4), data=st.binary(max_size=700),
       le=st.none() | st.integers(1, 65536))
def test_build_apdu_round_trip(header: bytes, data: bytes, le: int | None) -> None:
    apdu = build_apdu(*header, data, le)
    assert _parse(apdu) == (header, data, le)
    short = len(data) <= 255 and (le is None or le <= 256)
    assert (len(apdu) == 4 + (len(data) + 1 if data else 0) + (1 if le is not None else 0)) == short


def test_response_parse_and_check() -> None:
    response = Response.parse(bytes.fromhex("0102 9000"))
    assert (response.data, response.sw, response.sw1, response.sw2) == (b"\x01\x02", 0x9000, 0x90, 0x00)
    assert response.check() is response and response.ok
    assert Response(b"ab", 0x6282).ok
    assert response.encode() == bytes.fromhex("01029000")
    assert "0102" not in repr(response)  # no data in logs/reprs
    with pytest.raises(CardStatusError) as info:
        Response(b"", 0x6A82).check()
    assert info.value.sw == 0x6A82 and "file not found" in str(info.value)
    with pytest.raises(TransportError):
        Response.parse(b"\x90")


# ATR: T=1, historical bytes 80 (category indicator), 73 (card capabilities, 3 bytes: the third byte
# C0 = command chaining + extended Lc/Le, ISO/IEC 7816-4 table 119), 31 FE.
ATR_EXTENDED = bytes.fromhex("3B 87 80 01 80 73 C8 00 C0 31 FE 32".replace(" ", ""))


def test_atr_extended_length_announced() -> None:
    info = parse_atr(ATR_EXTENDED)
    assert info.protocols == (0, 1)  # TD1 80 (T=0 implicit), TD2 01 (T=1)
    assert info.historical_bytes == bytes.fromhex("8073C800C031FE")
    assert info.extended_length


@pytest.mark.parametrize("atr", [
    "3B 88 80 01 80 73 C8 00 13 00 90 00 31",  # b7 cleared
    "3B 02 14 50",  # T=0 card, no capabilities
    "3B 84 80 01 80 72 C8 40 00",  # capabilities with 2 bytes only
    "3B 85 80 01 00 73 C8 40 90",  # category 00 leaves no room for the status indicator
])
def test_atr_without_extended_length(atr: str) -> None:
    assert not parse_atr(bytes.fromhex(atr.replace(" ", ""))).extended_length


def test_atr_category_00_with_status_indicator() -> None:
    atr = bytes.fromhex("3B88800100730000C00090002A".replace(" ", ""))
    assert parse_atr(atr).extended_length


@pytest.mark.parametrize("atr", ["", "3B", "12 00", "3B 80", "3B 83 80 01"])
def test_atr_malformed(atr: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_atr(bytes.fromhex(atr.replace(" ", "")))


@given(st.binary(max_size=40))
def test_atr_parser_only_raises_its_error(raw: bytes) -> None:
    with contextlib.suppress(InvalidInputError):
        parse_atr(raw)
