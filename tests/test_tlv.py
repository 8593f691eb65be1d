"""BER-TLV codec: published encodings, round trips, every rejection rule, and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.errors import FormatError
from neweid.formats.tlv import (
    Tlv,
    TlvError,
    encode_constructed,
    encode_length,
    encode_tlv,
    find_tlv,
    is_constructed,
    parse_tlv,
    parse_tlvs,
    require_tlv,
    tag_bytes,
)

# --- published vectors ---------------------------------------------------------------------------

# ICAO Doc 9303-11, worked example of secure messaging (BAC), SELECT EF.COM: the protected command data
# field is DO'87' (padding indicator 01 + cryptogram) followed by DO'8E' (MAC).
ICAO_SM_COMMAND_DATA = bytes.fromhex("8709016375432908C044F68E08BF8B92D635FF24F8")
# ... and the protected response data: DO'99' (status word) and DO'8E'.
ICAO_SM_RESPONSE_DATA = bytes.fromhex("990290008E08FA855A5D4C50A8ED")


def test_icao_secure_messaging_command_data_objects() -> None:
    items = parse_tlvs(ICAO_SM_COMMAND_DATA)
    assert items == [
        Tlv(0x87, bytes.fromhex("016375432908C044F6")),
        Tlv(0x8E, bytes.fromhex("BF8B92D635FF24F8")),
    ]
    assert b"".join(item.encode() for item in items) == ICAO_SM_COMMAND_DATA


def test_icao_secure_messaging_response_data_objects() -> None:
    items = parse_tlvs(ICAO_SM_RESPONSE_DATA)
    assert require_tlv(items, 0x99).value == bytes.fromhex("9000")
    assert require_tlv(items, 0x8E).value == bytes.fromhex("FA855A5D4C50A8ED")


def test_x690_long_form_length_example() -> None:
    # X.690 §8.1.3.5 NOTE: L = 201 is encoded as 10000001 11001001.
    assert encode_length(201) == bytes([0b10000001, 0b11001001])


@pytest.mark.parametrize(("n", "encoded"), [
    (0, "00"), (1, "01"), (0x7F, "7F"), (0x80, "8180"), (0xFF, "81FF"), (0x100, "820100"),
    (0xFFFF, "82FFFF"), (0x10000, "83010000"), (0xFFFFFF, "83FFFFFF"), (0x1000000, "8401000000"),
    (0xFFFFFFFF, "84FFFFFFFF"),
])
def test_encode_length_uses_the_shortest_form(n: int, encoded: str) -> None:
    assert encode_length(n) == bytes.fromhex(encoded)


@pytest.mark.parametrize(("tag", "encoded"), [
    (0x04, "04"), (0x30, "30"), (0x5F1F, "5F1F"), (0x7F49, "7F49"), (0x7F21, "7F21"),
    (0x5F8101, "5F8101"), (0xBF8101, "BF8101"),
])
def test_tag_bytes(tag: int, encoded: str) -> None:
    assert tag_bytes(tag) == bytes.fromhex(encoded)


def test_multi_byte_tags_in_a_cv_public_key() -> None:
    # TR-03110-3 style public key: 7F49 { 06 OID, 86 point } with a long-form length.
    point = b"\x04" + bytes(range(64)) * 2 + b"\x00\x01"
    encoded = encode_constructed(0x7F49, [Tlv(0x06, b"\x04\x00\x7f\x00\x07"), Tlv(0x86, point)])
    assert encoded[:2] == b"\x7f\x49"
    assert encoded[2:4] == bytes([0x81, len(encoded) - 4])
    outer, end = parse_tlv(encoded)
    assert end == len(encoded)
    assert outer.tag == 0x7F49 and outer.constructed
    assert outer.children() == [Tlv(0x06, b"\x04\x00\x7f\x00\x07"), Tlv(0x86, point)]


def test_constructed_bit() -> None:
    assert is_constructed(0x7C) and is_constructed(0x61) and is_constructed(0x7F49)
    assert not is_constructed(0x80) and not is_constructed(0x5F1F) and not is_constructed(0x04)
    assert Tlv(0x30, b"").constructed
    assert not Tlv(0x5F1F, b"").constructed


def test_parse_returns_next_offset() -> None:
    data = encode_tlv(0x80, b"\x01\x02") + encode_tlv(0x5F1F, b"xyz")
    first, offset = parse_tlv(data)
    assert (first, offset) == (Tlv(0x80, b"\x01\x02"), 4)
    second, end = parse_tlv(data, offset)
    assert (second, end) == (Tlv(0x5F1F, b"xyz"), len(data))


def test_non_minimal_long_form_length_is_accepted() -> None:
    assert parse_tlvs(bytes.fromhex("80810201 02".replace(" ", ""))) == [Tlv(0x80, b"\x01\x02")]
    assert parse_tlvs(bytes.fromhex("8082000101")) == [Tlv(0x80, b"\x01")]


@pytest.mark.parametrize(("n", "field"), [(0, "00"), (0x7F, "7F"), (0x80, "8180"), (0xFF, "81FF"),
                                           (0x100, "820100"), (0xFFFF, "82FFFF"), (0x10000, "83010000")])
def test_strict_lengths_accept_the_shortest_form(n: int, field: str) -> None:
    data = bytes.fromhex("04" + field) + bytes(n)
    assert parse_tlv(data, strict_lengths=True) == (Tlv(0x04, bytes(n)), len(data))
    assert parse_tlvs(data, strict_lengths=True) == [Tlv(0x04, bytes(n))]


@pytest.mark.parametrize(("field", "n"), [
    ("8105", 5),  # a short value in the one-byte long form
    ("8100", 0),
    ("820001", 1),  # a leading zero length byte
    ("820080", 0x80),  # 128 fits in 81 80
    ("83000100", 0x100),
    ("8400000001", 1),
])
def test_strict_lengths_reject_longer_forms(field: str, n: int) -> None:
    data = bytes.fromhex("80" + field) + bytes(n)
    assert parse_tlvs(data) == [Tlv(0x80, bytes(n))]  # accepted without the option (BER)
    with pytest.raises(TlvError, match=f"non-minimal length encoding of tag 80: {field} for {n} bytes"):
        parse_tlvs(data, strict_lengths=True)
    with pytest.raises(TlvError, match="non-minimal"):
        parse_tlv(data, strict_lengths=True)


def test_strict_lengths_check_every_data_object_and_combine_with_padding() -> None:
    data = b"\x00" + encode_tlv(0x80, b"ok") + b"\xff" + bytes.fromhex("8181 02 6869") + b"\x00"
    assert parse_tlvs(data, allow_padding=True) == [Tlv(0x80, b"ok"), Tlv(0x81, b"hi")]
    with pytest.raises(TlvError, match="non-minimal length encoding of tag 81"):
        parse_tlvs(data, allow_padding=True, strict_lengths=True)
    with pytest.raises(TlvError, match="indefinite"):
        parse_tlvs(bytes.fromhex("8080"), strict_lengths=True)


def test_find_and_require() -> None:
    items = [Tlv(0x80, b"a"), Tlv(0x81, b"b"), Tlv(0x80, b"c")]
    assert find_tlv(items, 0x80) == Tlv(0x80, b"a")
    assert find_tlv(items, 0x82) is None
    assert require_tlv(items, 0x81).value == b"b"
    with pytest.raises(TlvError, match="missing mandatory data object with tag 82"):
        require_tlv(items, 0x82)


def test_encode_constructed_accepts_encoded_children() -> None:
    child = encode_tlv(0x4F, bytes.fromhex("F04E4549440150"))
    encoded = encode_constructed(0x61, [child, Tlv(0x50, b"public")])
    assert encoded == b"\x61" + bytes([len(child) + 8]) + child + b"\x50\x06public"


def test_padding_only_when_allowed() -> None:
    data = b"\x00\xff" + encode_tlv(0x80, b"\x01") + b"\x00\x00" + encode_tlv(0x81, b"") + b"\xff\xff"
    assert parse_tlvs(data, allow_padding=True) == [Tlv(0x80, b"\x01"), Tlv(0x81, b"")]
    with pytest.raises(TlvError, match="reserved for padding"):
        parse_tlvs(data)
    outer = Tlv(0x7C, data)
    assert outer.children(allow_padding=True) == [Tlv(0x80, b"\x01"), Tlv(0x81, b"")]
    with pytest.raises(TlvError):
        outer.children()


def test_tlv_value_is_normalised_to_bytes() -> None:
    item = Tlv(0x80, bytearray(b"ab"))  # type: ignore[arg-type]
    assert type(item.value) is bytes
    assert item == Tlv(0x80, b"ab")


# --- rejections ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    ("3080", "indefinite length"),
    ("80", "truncated length of tag 80: no length byte"),
    ("8082", "truncated length of tag 80: 2 length bytes announced, 0 present"),
    ("808201", "truncated length of tag 80: 2 length bytes announced, 1 present"),
    ("800301", "truncated value of tag 80 at offset 0: 3 bytes announced, 1 present"),
    ("80850000000001", "5 length bytes"),
    ("5F", "multi-byte tag not finished"),
    ("5F81", "multi-byte tag not finished"),
    ("5F818101", "longer than 3 bytes"),
    ("5F0500", "second byte 05 is not allowed"),
    ("5F800100", "second byte 80 is not allowed"),
    ("0000", "reserved for padding"),
    ("FF00", "reserved for padding"),
    ("", None),
])
def test_malformed_input_is_rejected_precisely(data: str, message: str | None) -> None:
    raw = bytes.fromhex(data)
    if not raw:
        with pytest.raises(TlvError, match="truncated tag at offset 0"):
            parse_tlv(raw)
        assert parse_tlvs(raw) == []
        return
    with pytest.raises(TlvError, match=message):
        parse_tlvs(raw)


def test_trailing_garbage_is_an_error() -> None:
    with pytest.raises(TlvError, match="truncated"):
        parse_tlvs(encode_tlv(0x80, b"ok") + b"\x81")
    with pytest.raises(TlvError, match="truncated value of tag 81 at offset 4"):
        parse_tlvs(encode_tlv(0x80, b"ok") + b"\x81\x05")


@pytest.mark.parametrize("tag", [0, -1, 0x00, 0xFF, 0x1F, 0x3F, 0x5F05, 0x5F1E, 0x5F80, 0x5F81,
                                 0x5F8181, 0x0480, 0x5F818101, 0x1_0000_0000, True])
def test_invalid_tags_are_rejected(tag: int) -> None:
    with pytest.raises(TlvError, match="bad tag"):
        tag_bytes(tag)
    with pytest.raises(TlvError):
        encode_tlv(tag, b"")
    with pytest.raises(TlvError):
        Tlv(tag, b"")


@pytest.mark.parametrize("n", [-1, 1 << 32, True])
def test_invalid_lengths_are_rejected(n: int) -> None:
    with pytest.raises(TlvError, match="length"):
        encode_length(n)


def test_other_misuse_raises_tlv_error() -> None:
    with pytest.raises(TlvError, match="primitive: it has no children"):
        Tlv(0x80, b"\x80\x00").children()
    with pytest.raises(TlvError, match="primitive, not constructed"):
        encode_constructed(0x80, [])
    with pytest.raises(TlvError, match="truncated"):
        encode_constructed(0x7C, [b"\x80\x05"])
    with pytest.raises(TlvError, match="must be bytes"):
        parse_tlvs("8000")  # type: ignore[arg-type]
    with pytest.raises(TlvError, match="offset"):
        parse_tlv(b"\x80\x00", 3)
    with pytest.raises(TlvError, match="offset"):
        parse_tlv(b"\x80\x00", -1)
    assert issubclass(TlvError, FormatError) and issubclass(TlvError, ValueError)


# --- properties ----------------------------------------------------------------------------------

_CLASS_AND_FORM = st.sampled_from([0x00, 0x20, 0x40, 0x60, 0x80, 0xA0, 0xC0, 0xE0])
_ONE_BYTE_TAGS = st.tuples(_CLASS_AND_FORM, st.integers(0, 0x1E)).map(lambda t: t[0] | t[1]).filter(
    lambda t: t != 0)
_MULTI_FIRST = _CLASS_AND_FORM.map(lambda c: c | 0x1F).filter(lambda b: b != 0xFF)
_TWO_BYTE_TAGS = st.tuples(_MULTI_FIRST, st.integers(0x1F, 0x7F)).map(lambda t: t[0] << 8 | t[1])
_THREE_BYTE_TAGS = st.tuples(_MULTI_FIRST, st.integers(0x81, 0xFF), st.integers(0, 0x7F)).map(
    lambda t: t[0] << 16 | t[1] << 8 | t[2])
TAGS = st.one_of(_ONE_BYTE_TAGS, _TWO_BYTE_TAGS, _THREE_BYTE_TAGS)
# Small values, plus values around the 1-, 2- and 3-byte length boundaries.
VALUES = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from([0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000]), st.integers(-1, 1),
              st.integers(0, 255)).map(lambda t: bytes([t[2]]) * (t[0] + t[1])),
)


@given(TAGS, VALUES)
def test_encode_parse_round_trip(tag: int, value: bytes) -> None:
    encoded = encode_tlv(tag, value)
    item, end = parse_tlv(encoded)
    assert item == Tlv(tag, value)
    assert end == len(encoded)
    assert item.encode() == encoded
    assert encoded.endswith(value)
    assert item.constructed == bool(encoded[0] & 0x20)


@given(TAGS, VALUES)
def test_strict_lengths_round_trip(tag: int, value: bytes) -> None:
    encoded = encode_tlv(tag, value)
    assert parse_tlv(encoded, strict_lengths=True) == (Tlv(tag, value), len(encoded))


@given(st.lists(st.tuples(TAGS, st.binary(max_size=140)), max_size=8))
def test_sequence_round_trip(pairs: list[tuple[int, bytes]]) -> None:
    items = [Tlv(tag, value) for tag, value in pairs]
    data = b"".join(item.encode() for item in items)
    assert parse_tlvs(data) == items
    assert parse_tlvs(data, strict_lengths=True) == items


@given(st.lists(st.tuples(TAGS, st.binary(max_size=40)), max_size=6),
       st.sampled_from([0x7C, 0x61, 0x7F49, 0x30, 0xBF8101]))
def test_constructed_round_trip(pairs: list[tuple[int, bytes]], outer_tag: int) -> None:
    items = [Tlv(tag, value) for tag, value in pairs]
    encoded = encode_constructed(outer_tag, items)
    outer, end = parse_tlv(encoded)
    assert end == len(encoded)
    assert outer.tag == outer_tag
    assert outer.children() == items


@given(st.binary(max_size=200), st.booleans())
def test_fuzz_only_tlv_error(data: bytes, allow_padding: bool) -> None:
    try:
        items = parse_tlvs(data, allow_padding=allow_padding)
    except TlvError:
        return
    reencoded = b"".join(item.encode() for item in items)
    assert len(reencoded) <= len(data)
    for item in items:
        if item.constructed:
            try:
                children = item.children(allow_padding=allow_padding)
            except TlvError:
                continue
            assert sum(len(child.encode()) for child in children) <= len(item.value)


@given(st.binary(max_size=200))
def test_fuzz_strict_lengths_accept_only_the_canonical_encoding(data: bytes) -> None:
    try:
        items = parse_tlvs(data, strict_lengths=True)
    except TlvError:
        return
    assert b"".join(item.encode() for item in items) == data
    assert parse_tlvs(data) == items


@given(st.binary(max_size=64), st.integers(-3, 70))
def test_fuzz_parse_tlv_at_any_offset(data: bytes, offset: int) -> None:
    try:
        item, end = parse_tlv(data, offset)
    except TlvError:
        return
    assert offset < end <= len(data)
    assert len(item.value) <= end - offset
