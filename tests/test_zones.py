"""Zone data groups (CARD-2): the tag plan byte for byte, round trips of every DG, every rejection rule."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.errors import FormatError
from neweid.formats.filemap import Zone, zone_spec
from neweid.formats.sex import Sex
from neweid.formats.zones import (
    AaPublicKey,
    Address,
    BirthDate,
    Birthplace,
    CanDG,
    CardSerial,
    EncryptedZone,
    FatherName,
    HouseholdRegion,
    HouseholdZone,
    IdNumberDG,
    IssueDate,
    MaritalStatus,
    MaritalStatusDG,
    MilitaryService,
    MilitaryStatus,
    MotherName,
    Photo,
    PublicName,
    PublicZone,
    RenewalDate,
    SexDG,
    SpouseName,
    ZoneFormatError,
    dg_tag,
)

# A P-521 SubjectPublicKeyInfo made once from a fixed private value (deterministic tests).
_AA_KEY = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP521R1()).public_key()
AA_SPKI = _AA_KEY.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"

REGION = HouseholdRegion("65000", "新北市", "65000010", "板橋區", "65000010001", "留侯里", 5)


def _public_zone(**changes: Any) -> PublicZone:
    values: dict[str, Any] = {
        "name": PublicName("陳𡘙玲", "CHEN, MEI-LING", None),
        "id_number": IdNumberDG("A234567890"),
        "birth_date": BirthDate(datetime.date(1990, 2, 28)),
        "address": Address("新北市板橋區留侯里5鄰文化路一段100號", "65000010001"),
        "marital_status": MaritalStatusDG(MaritalStatus.SINGLE),
        "military_service": MilitaryService.of(MilitaryStatus.NOT_APPLICABLE_FEMALE),
        "card_serial": CardSerial("TW0000123456"),
        "renewal_date": RenewalDate(datetime.date(2036, 3, 1)),
        "issue_date": IssueDate(datetime.date(2026, 3, 1)),
        "photo": Photo(JPEG),
        "aa_public_key": AaPublicKey(AA_SPKI),
    }
    values.update(changes)
    return PublicZone(**values)


ENCRYPTED = EncryptedZone(
    SpouseName(None), FatherName("陳大文"), MotherName("林𠀋"), Birthplace("臺北市", "63000"),
    SexDG(Sex.FEMALE), CanDG("123456"),
)


# --- the tag plan, byte for byte ---------------------------------------------------------------------


def test_household_region_encoding_is_the_documented_tag_plan() -> None:
    expected = (
        "6142"
        "8005" + b"65000".hex()
        + "8109" + "新北市".encode().hex()
        + "8208" + b"65000010".hex()
        + "8309" + "板橋區".encode().hex()
        + "840b" + b"65000010001".hex()
        + "8509" + "留侯里".encode().hex()
        + "8601" + b"5".hex()
    )
    assert REGION.encode().hex() == expected
    assert HouseholdRegion.decode(bytes.fromhex(expected)) == REGION


@pytest.mark.parametrize(("value", "expected"), [
    (PublicName("王小明", "WANG, HSIAO-MING"), "611d8009" + "王小明".encode().hex() + "8210"
     + b"WANG, HSIAO-MING".hex()),
    (IdNumberDG("A123456789"), "620c800a" + b"A123456789".hex()),
    (BirthDate(datetime.date(2006, 8, 5)), "630a8008" + b"20060805".hex()),
    (MaritalStatusDG(MaritalStatus.MARRIED), "65038001" + b"M".hex()),
    (MilitaryService.of(MilitaryStatus.SUBSTITUTE), "660f8002" + b"03".hex() + "8109"
     + "替代役".encode().hex()),
    (RenewalDate(None), "6800"),
    (IssueDate(datetime.date(2026, 1, 31)), "690a8008" + b"20260131".hex()),
    (SpouseName(None), "6100"),
    (Birthplace("浙江省"), "640b8109" + "浙江省".encode().hex()),
    (SexDG(Sex.MALE), "65038001" + b"M".hex()),
    (CanDG("000042"), "66088006" + b"000042".hex()),
])
def test_single_data_groups_encode_as_documented(value: Any, expected: str) -> None:
    assert value.encode().hex() == expected
    assert type(value).decode(bytes.fromhex(expected)) == value


def test_dg_tags_follow_0x60_plus_n_and_dg15_is_the_icao_tag() -> None:
    assert [dg_tag(n) for n in (1, 2, 10, 15)] == [0x61, 0x62, 0x6A, 0x6F]
    assert AaPublicKey(AA_SPKI).encode()[:1] == b"\x6f"
    with pytest.raises(ValueError, match="no data group"):
        dg_tag(0)


def test_long_values_use_minimal_long_form_lengths() -> None:
    jpeg = b"\xff\xd8" + bytes(300) + b"\xff\xd9"
    encoded = Photo(jpeg).encode()
    # 304-byte JPEG: inner 80 82 0130, outer 6A 82 0134 (= 4 + 0x130)
    assert encoded[:8] == bytes.fromhex("6a82013480820130")
    assert Photo.decode(encoded).jpeg == jpeg


# --- round trips ----------------------------------------------------------------------------------------

# Text with CJK, characters outside the BMP (𡘙, 𠀋, 𦰡) and other scripts, no control characters.
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("陳林黃𡘙𠀋𦰡𥕢瓦磘里鄰 ,.-'ÀéABCxyz"),
        st.characters(blacklist_categories=("Cc", "Cs")),
    ),
    min_size=1,
    max_size=40,
)
_DATES = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31))


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def _regions(draw: st.DrawFn) -> HouseholdRegion:
    county = draw(_digits(5))
    township = county + draw(_digits(3))
    village = township + draw(_digits(3))
    return HouseholdRegion(county, draw(_TEXT), township, draw(_TEXT), village, draw(_TEXT),
                           draw(st.integers(1, 9999)))


_DG_VALUES: st.SearchStrategy[Any] = st.one_of(
    _regions(),
    st.builds(PublicName, _TEXT, _TEXT, st.none() | _TEXT),
    st.builds(IdNumberDG, st.from_regex(r"[A-Z][0-9]{9}", fullmatch=True)),
    st.builds(BirthDate, _DATES),
    st.builds(Address, _TEXT, _digits(11)),
    st.builds(MaritalStatusDG, st.sampled_from(MaritalStatus)),
    st.builds(MilitaryService, st.sampled_from(MilitaryStatus), _TEXT),
    st.builds(CardSerial, st.from_regex(r"[0-9A-Z]{0,26}[0-9]{6}", fullmatch=True)),
    st.builds(RenewalDate, st.none() | _DATES),
    st.builds(IssueDate, _DATES),
    st.builds(Photo, st.binary(max_size=2000).map(lambda b: b"\xff\xd8" + b + b"\xff\xd9")),
    st.builds(SpouseName, st.none() | _TEXT),
    st.builds(FatherName, st.none() | _TEXT),
    st.builds(MotherName, st.none() | _TEXT),
    st.builds(Birthplace, _TEXT, st.none() | _digits(5)),
    st.builds(SexDG, st.sampled_from(Sex)),
    st.builds(CanDG, _digits(6)),
)


@given(_DG_VALUES)
def test_every_data_group_round_trips(value: Any) -> None:
    encoded = value.encode()
    assert encoded[0] == dg_tag(value.NUMBER)
    decoded = type(value).decode(encoded)
    assert decoded == value
    assert decoded.encode() == encoded


def test_aa_public_key_round_trips_and_loads_as_p521() -> None:
    dg15 = AaPublicKey(AA_SPKI)
    assert AaPublicKey.decode(dg15.encode()) == dg15
    key = serialization.load_der_public_key(AaPublicKey.decode(dg15.encode()).subject_public_key_info)
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp521r1"


def test_zone_aggregates_round_trip_through_data_groups() -> None:
    household = HouseholdZone(REGION)
    assert HouseholdZone.from_data_groups(household.to_data_groups()) == household
    public = _public_zone()
    groups = public.to_data_groups()
    assert sorted(groups) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15]
    assert PublicZone.from_data_groups(groups) == public
    assert EncryptedZone.from_data_groups(ENCRYPTED.to_data_groups()) == ENCRYPTED


def test_public_zone_without_aa_key_and_without_renewal_date() -> None:
    public = _public_zone(aa_public_key=None, renewal_date=RenewalDate(None))
    groups = public.to_data_groups()
    assert 15 not in groups and groups[8] == b"\x68\x00"
    assert PublicZone.from_data_groups(groups) == public


def test_realistic_zones_fit_the_file_map_sizes() -> None:
    for zone, groups in ((Zone.HOUSEHOLD, HouseholdZone(REGION).to_data_groups()),
                         (Zone.PUBLIC, _public_zone().to_data_groups()),
                         (Zone.ENCRYPTED, ENCRYPTED.to_data_groups())):
        spec = zone_spec(zone)
        for number, data in groups.items():
            assert len(data) <= spec.data_group(number).max_size, (zone, number)


def test_labels_of_the_enums() -> None:
    assert (MaritalStatus.MARRIED.label_zh, MaritalStatus.MARRIED.label_en) == ("有", "Married")
    assert (MaritalStatus.SINGLE.label_zh, MaritalStatus.SINGLE.label_en) == ("無", "Single")
    assert MilitaryStatus.REGULAR.label_zh == "常備役"
    assert MilitaryStatus.NOT_APPLICABLE_FEMALE.label_zh == "女性無役別"
    assert all(status.label_zh and status.label_en for status in MilitaryStatus)
    assert CardSerial("TW0000123456").can == "123456"


# --- rejections: values ------------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "dg", "field"), [
    (lambda: HouseholdRegion("6500", "新北市", "65000010", "板橋區", "65000010001", "留侯里", 5),
     "household DG1", "county_code"),
    (lambda: HouseholdRegion("65000", "新北市", "63000010", "板橋區", "63000010001", "留侯里", 5),
     "household DG1", "township_code"),
    (lambda: HouseholdRegion("65000", "新北市", "65000010", "板橋區", "65000020001", "留侯里", 5),
     "household DG1", "village_code"),
    (lambda: HouseholdRegion("65000", "", "65000010", "板橋區", "65000010001", "留侯里", 5),
     "household DG1", "county_name"),
    (lambda: HouseholdRegion("65000", "新北市", "65000010", "板橋區", "65000010001", "留侯里", 0),
     "household DG1", "neighbourhood"),
    (lambda: HouseholdRegion("65000", "新北市", "65000010", "板\x00橋區", "65000010001", "留侯里", 1),
     "household DG1", "township_name"),
    (lambda: PublicName("", "WANG"), "public DG1", "chinese_name"),
    (lambda: PublicName("王", "WANG", ""), "public DG1", "foreign_name"),
    (lambda: IdNumberDG("a123456789"), "public DG2", "id_number"),
    (lambda: IdNumberDG("A12345678"), "public DG2", "id_number"),
    (lambda: BirthDate(datetime.datetime(2000, 1, 1)), "public DG3", "date"),  # noqa: DTZ001
    (lambda: Address("地址", "6500001000"), "public DG4", "village_code"),
    (lambda: MaritalStatusDG("M"), "public DG5", "status"),
    (lambda: MilitaryService(MilitaryStatus.EXEMPT, ""), "public DG6", "text"),
    (lambda: CardSerial("TW00001234A6"), "public DG7", "serial"),
    (lambda: CardSerial("12345"), "public DG7", "serial"),
    (lambda: Photo(b"\x89PNG\r\n\x1a\n\xff\xd9"), "public DG10", "jpeg"),
    (lambda: Photo(b"\xff\xd8\x00\x00"), "public DG10", "jpeg"),
    (lambda: AaPublicKey(b"\x30\x03\x02\x01\x01"), "public DG15", "subject_public_key_info"),
    (lambda: SpouseName(""), "encrypted DG1", "name"),
    (lambda: Birthplace("臺北市", "630"), "encrypted DG4", "county_code"),
    (lambda: SexDG("M"), "encrypted DG5", "sex"),
    (lambda: CanDG("12345a"), "encrypted DG6", "can"),
])
def test_invalid_values_name_the_data_group_and_field(build: Any, dg: str, field: str) -> None:
    with pytest.raises(ZoneFormatError) as info:
        build()
    assert (info.value.dg, info.value.field) == (dg, field)
    assert str(info.value).startswith(f"{dg}.{field}: ")
    assert isinstance(info.value, FormatError) and isinstance(info.value, ValueError)


# --- rejections: bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "data", "message"), [
    (CanDG, "660880063132333435", "truncated"),
    (CanDG, "62088006313233343536", "outer tag 62, expected 66"),
    (CanDG, "660880063132333435366100", "exactly one outer TLV"),
    (CanDG, "66088106313233343536", "unknown field tag 81"),
    (CanDG, "6606800131800131", "appears twice"),
    (Birthplace, "640a8101" + b"X".hex() + "8005" + b"63000".hex(), "out of order"),
    (CanDG, "6600", "missing"),
    (CanDG, "6680", "indefinite"),
    (CanDG, "66810a", "non-minimal"),
    (CanDG, "6609800736313233343536", "6 ASCII digits"),
    (BirthDate, "630a8008" + b"20230229".hex(), "not a calendar date"),
    (BirthDate, "630a8008" + b"2023-1-1".hex(), "YYYYMMDD"),
    (IssueDate, "6900", "missing"),
    (PublicName, "61078002ffff8201" + b"A".hex(), "not valid UTF-8"),
    (PublicName, "61038201" + b"A".hex(), "missing"),
    (HouseholdRegion, REGION.encode()[:-1].hex() + b"0".hex(), "without leading zeros"),
    (MaritalStatusDG, "65038001" + b"D".hex(), "unknown code"),
    (MilitaryService, "660a8002" + b"99".hex() + "8104" + b"text".hex(), "unknown code"),
    (SexDG, "65038001" + b"X".hex(), "unknown code"),
    (CardSerial, "6704800280ff", "not ASCII"),
    (AaPublicKey, "6f00", "SubjectPublicKeyInfo"),
    (CanDG, "7f6100", "multi-byte tag"),
])
def test_malformed_files_are_rejected(cls: Any, data: str, message: str) -> None:
    with pytest.raises(ZoneFormatError, match=message):
        cls.decode(bytes.fromhex(data))


def test_zone_aggregates_reject_missing_and_foreign_data_groups() -> None:
    groups = _public_zone().to_data_groups()
    del groups[7]
    with pytest.raises(ZoneFormatError, match="public DG7: missing"):
        PublicZone.from_data_groups(groups)
    with pytest.raises(ZoneFormatError, match="encrypted DG7: not a data group of this zone"):
        EncryptedZone.from_data_groups({**ENCRYPTED.to_data_groups(), 7: b"\x67\x00"})
    with pytest.raises(ZoneFormatError, match="household DG1: missing"):
        HouseholdZone.from_data_groups({})


_DECODERS: tuple[Any, ...] = (HouseholdRegion, PublicName, BirthDate, RenewalDate, Photo, AaPublicKey,
                              SpouseName, Birthplace, MilitaryService, CanDG)


@given(st.sampled_from(_DECODERS), st.binary(max_size=64))
def test_arbitrary_bytes_decode_canonically_or_raise_the_zone_error(cls: Any, data: bytes) -> None:
    try:
        value = cls.decode(data)
    except ZoneFormatError:
        return
    assert value.encode() == data  # strict decoding: anything accepted is the unique encoding


@given(_DG_VALUES, st.data())
def test_truncated_files_are_rejected(value: Any, data: st.DataObject) -> None:
    encoded = value.encode()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(ZoneFormatError):
        type(value).decode(encoded[:cut])
