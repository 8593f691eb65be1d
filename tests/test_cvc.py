"""CV certificate and request codec (neweid.formats.cvc): the BSI worked example byte for byte, round trips,
and one negative test per rule."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.chat import ALL_RIGHTS, ID_NEID_TERMINAL, NeidRight, Role
from neweid.formats.cvc import (
    ID_AT,
    ID_IS,
    ID_TA_ECDSA_SHA_256,
    ID_TA_ECDSA_SHA_512,
    PROFILE_ID,
    Chat,
    CvCertificate,
    CvCertificateBody,
    CvcFormatError,
    CvPublicKey,
    CvRequest,
    CvRequestBody,
    DomainParameters,
    decode_cv_certificate,
    decode_cv_date,
    decode_cv_request,
    encode_cv_body,
    encode_cv_certificate,
    encode_cv_date,
    encode_cv_request,
    outer_signature_input,
    parse_holder_reference,
)
from neweid.formats.tlv import encode_tlv, parse_tlv
from tests.vectors_loader import BSI_ECDH, group

TA = group(BSI_ECDH, "ta")
POINT = b"\x04" + bytes(range(1, 33)) + bytes(range(33, 65))
KEY = CvPublicKey(ID_TA_ECDSA_SHA_512, POINT)
DOMAIN = DomainParameters(p=2**127 - 1, a=3, b=7, g=b"\x04" + b"\x01" * 32, n=2**120 + 1, h=1)


def body(**changes: object) -> CvCertificateBody:
    values: dict[str, object] = dict(
        profile_id=PROFILE_ID, car="TWCVCA00001", public_key=KEY, chr="TWDVMOI00001",
        chat=Chat.neid(Role.DV_OFFICIAL, NeidRight.READ_SPOUSE | NeidRight.READ_SEX),
        effective=datetime.date(2026, 11, 1), expiry=datetime.date(2027, 4, 30), extensions=None)
    values.update(changes)
    return CvCertificateBody(**values)  # type: ignore[arg-type]


# --- the BSI worked example -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cvca_certificate", "dv_certificate", "terminal_certificate"])
def test_worked_example_certificates_reencode_byte_exactly(name: str) -> None:
    raw = TA.hex(name)
    cert = decode_cv_certificate(raw)
    assert encode_cv_certificate(cert) == raw
    assert cert.body_der == parse_tlv(parse_tlv(raw)[0].value)[0].encode()
    assert cert.body.public_key.oid == ID_TA_ECDSA_SHA_512
    assert len(cert.signature) == 128  # brainpoolP512r1, plain r || s


def test_worked_example_fields() -> None:
    cvca = decode_cv_certificate(TA.hex("cvca_certificate"))
    dv = decode_cv_certificate(TA.hex("dv_certificate"))
    terminal = decode_cv_certificate(TA.hex("terminal_certificate"))
    assert (cvca.car, cvca.chr, cvca.is_self_signed) == ("DECVCAAT00001", "DECVCAAT00001", True)
    assert (dv.car, dv.chr) == ("DECVCAAT00001", "DETESTDVDE019")
    assert (terminal.car, terminal.chr) == ("DETESTDVDE019", "DETESTATDE019")
    assert cvca.body.chat == Chat(ID_IS, b"\xc3") and cvca.body.chat.role is Role.CVCA
    assert dv.body.chat.terminal_type == ID_AT and dv.body.chat.role is Role.DV_OFFICIAL
    assert terminal.body.chat.role is Role.TERMINAL
    assert terminal.body.chat.rights_bits == 0x0110
    assert cvca.body.effective == datetime.date(2010, 9, 30)
    assert cvca.body.expiry == datetime.date(2011, 9, 25)
    domain = cvca.body.public_key.domain
    assert domain is not None and domain.h == 1 and domain.p.bit_length() == 512
    assert dv.body.public_key.domain is None and terminal.body.public_key.domain is None
    with pytest.raises(CvcFormatError, match="not the New eID type"):
        _ = dv.body.chat.rights


# --- round trips ----------------------------------------------------------------------------------

REFERENCES = st.builds(
    lambda c, m, s: c + m + s,
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -éÜ", max_size=9),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=5,
            max_size=5),
)
POINTS = st.integers(1, 80).flatmap(lambda n: st.binary(min_size=2 * n, max_size=2 * n)).map(
    lambda b: b"\x04" + b)
DOMAINS = st.builds(DomainParameters, st.integers(2, 2**528), st.integers(0, 2**528), st.integers(0, 2**528),
                    POINTS, st.integers(2, 2**528), st.none() | st.integers(1, 8))
KEYS = st.builds(CvPublicKey, st.sampled_from([f"0.4.0.127.0.7.2.2.2.2.{i}" for i in range(1, 6)]), POINTS,
                 st.none() | DOMAINS)
CHATS = st.one_of(
    st.builds(Chat.neid, st.sampled_from(Role), st.integers(0, int(ALL_RIGHTS)).map(NeidRight)),
    st.builds(Chat, st.sampled_from([ID_AT, ID_IS, "1.2.3.4.5"]), st.binary(min_size=1, max_size=6)),
)
DATES = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))
EXTENSIONS = st.none() | st.lists(st.binary(max_size=40), max_size=3).map(
    lambda items: b"".join(encode_tlv(0x73, b"\x06\x03\x2a\x03\x04" + encode_tlv(0x80, i)) for i in items))


@st.composite
def bodies(draw: st.DrawFn) -> CvCertificateBody:
    first, second = sorted((draw(DATES), draw(DATES)))
    return CvCertificateBody(PROFILE_ID, draw(REFERENCES), draw(KEYS), draw(REFERENCES), draw(CHATS),
                             first, second, draw(EXTENSIONS))


@given(bodies(), st.binary(min_size=1, max_size=200))
def test_certificate_round_trip(b: CvCertificateBody, signature: bytes) -> None:
    cert = CvCertificate.from_body(b, signature)
    raw = encode_cv_certificate(cert)
    assert decode_cv_certificate(raw) == cert
    assert encode_cv_certificate(decode_cv_certificate(raw)) == raw


@given(REFERENCES | st.none(), KEYS, REFERENCES, EXTENSIONS, st.binary(min_size=1, max_size=140),
       st.none() | st.tuples(REFERENCES, st.binary(min_size=1, max_size=140)))
def test_request_round_trip(car: str | None, key: CvPublicKey, chr_: str, ext: bytes | None, inner: bytes,
                            outer: tuple[str, bytes] | None) -> None:
    request = CvRequest.from_body(CvRequestBody(PROFILE_ID, car, key, chr_, ext), inner)
    if outer is not None:
        request = CvRequest(request.body, inner, request.body_der, *outer)
    raw = encode_cv_request(request)
    assert raw[0] == (0x67 if outer else 0x7F)
    assert decode_cv_request(raw) == request
    assert encode_cv_request(decode_cv_request(raw)) == raw


@given(DATES)
def test_date_round_trip(day: datetime.date) -> None:
    raw = encode_cv_date(day)
    assert len(raw) == 6 and all(b <= 9 for b in raw)
    assert decode_cv_date(raw) == day


def test_date_encoding_is_unpacked_bcd() -> None:
    assert encode_cv_date(datetime.date(2026, 11, 1)) == bytes([2, 6, 1, 1, 0, 1])


def test_outer_signature_input_is_request_then_car_object() -> None:
    request = CvRequest.from_body(CvRequestBody(PROFILE_ID, None, KEY, "TWMOI00002"), b"\x01" * 8)
    data = outer_signature_input(request, "TWMOI00001")
    assert data.endswith(b"\x42\x0aTWMOI00001")
    assert data.startswith(b"\x7f\x21")


# --- negative tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["TW0001", "twCVCA00001", "TWCVCA0000_", "TWTOOLONGMNE00001", "TWCVCA0000!",
                                 "T1CVCA00001", "TWCV\x01CA00001"])
def test_bad_references_are_refused(ref: str) -> None:
    with pytest.raises(CvcFormatError, match="CHR"):
        parse_holder_reference(ref)
    with pytest.raises(CvcFormatError):
        body(chr=ref)


def test_reference_parts() -> None:
    ref = parse_holder_reference("TWAGENCY100001")
    assert (ref.country, ref.mnemonic, ref.sequence) == ("TW", "AGENCY1", "00001")
    assert str(ref) == "TWAGENCY100001"
    assert parse_holder_reference("DETESTATDE019").sequence == "DE019"


@pytest.mark.parametrize(("raw", "problem"), [
    (bytes([2, 6, 1, 3, 0, 1]), "no such date"),
    (bytes([2, 6, 0, 2, 3, 0]), "no such date"),
    (bytes([2, 6, 1, 1, 0, 10]), "BCD"),
    (bytes([2, 6, 1, 1, 0]), "BCD"),
    (b"261101", "BCD"),
])
def test_bad_dates_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(CvcFormatError, match=problem):
        decode_cv_date(raw, "effective date")


def test_dates_outside_2000_2099_and_reversed_validity_are_refused() -> None:
    with pytest.raises(CvcFormatError, match=r"2000\.\.2099"):
        encode_cv_date(datetime.date(2100, 1, 1))
    with pytest.raises(CvcFormatError, match=r"expected a datetime\.date"):
        encode_cv_date(datetime.datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(CvcFormatError, match="expiration date"):
        body(effective=datetime.date(2027, 1, 2), expiry=datetime.date(2027, 1, 1))


def test_value_checks() -> None:
    with pytest.raises(CvcFormatError, match="public key OID"):
        CvPublicKey("0.4.0.127.0.7.2.2.2.1.5", POINT)  # id-TA-RSA-*: not supported
    with pytest.raises(CvcFormatError, match="uncompressed"):
        CvPublicKey(ID_TA_ECDSA_SHA_256, b"\x02" + bytes(32))
    with pytest.raises(CvcFormatError, match="profile identifier"):
        body(profile_id=1)
    with pytest.raises(CvcFormatError, match="5 bytes"):
        Chat(ID_NEID_TERMINAL, b"\xc0")
    with pytest.raises(CvcFormatError, match="at least one byte"):
        Chat(ID_AT, b"")
    with pytest.raises(CvcFormatError, match="domain parameter p"):
        DomainParameters(1, 0, 0, POINT, 7, None)
    with pytest.raises(CvcFormatError, match="extensions"):
        body(extensions=encode_tlv(0x74, b"\x06\x01\x01"))
    with pytest.raises(CvcFormatError, match="starts with its OID"):
        body(extensions=encode_tlv(0x73, encode_tlv(0x80, b"x")))
    with pytest.raises(CvcFormatError, match="body_der"):
        CvCertificate(body(), b"sig", encode_cv_body(body(chr="TWDVMOI00002")))
    with pytest.raises(CvcFormatError, match="signature"):
        CvCertificate.from_body(body(), b"")
    with pytest.raises(CvcFormatError, match="both"):
        request = CvRequest.from_body(CvRequestBody(PROFILE_ID, None, KEY, "TWMOI00001"), b"s")
        CvRequest(request.body, b"s", request.body_der, "TWMOI00001", None)


def _replace_in_body(raw_body: bytes, tag: int, new: bytes | None) -> bytes:
    """The certificate with the data object ``tag`` of the body replaced by ``new`` (None: removed)."""
    from neweid.formats.tlv import parse_tlvs

    items = parse_tlvs(parse_tlv(raw_body)[0].value)
    out = b""
    for item in items:
        if item.tag == tag:
            out += new if new is not None else b""
        else:
            out += item.encode()
    return encode_tlv(0x7F21, encode_tlv(0x7F4E, out) + encode_tlv(0x5F37, b"\x01" * 8))


GOOD = CvCertificate.from_body(body(public_key=CvPublicKey(ID_TA_ECDSA_SHA_512, POINT, DOMAIN)), b"\x01" * 8)


@pytest.mark.parametrize(("tag", "new", "field"), [
    (0x5F29, None, "profile identifier"),
    (0x5F29, encode_tlv(0x5F29, b"\x01"), "profile identifier"),
    (0x5F29, encode_tlv(0x5F29, b"\x00\x00"), "profile identifier"),
    (0x42, None, "CAR"),
    (0x42, encode_tlv(0x42, b"TW001"), "CAR"),
    (0x7F49, None, "public key"),
    (0x5F20, None, "CHR"),
    (0x5F20, encode_tlv(0x5F20, b"TW\x00\x01ABC00001"), "CHR"),
    (0x7F4C, None, "CHAT"),
    (0x7F4C, encode_tlv(0x7F4C, encode_tlv(0x53, b"\x00")), "CHAT terminal type"),
    (0x7F4C, encode_tlv(0x7F4C, b"\x06\x03\x2a\x03\x04" + encode_tlv(0x53, b"") + b"\x01\x00"), "CHAT"),
    (0x5F25, None, "effective date"),
    (0x5F25, encode_tlv(0x5F25, bytes([2, 6, 1, 3, 0, 1])), "effective date"),
    (0x5F24, None, "expiration date"),
    (0x5F24, encode_tlv(0x5F24, bytes([2, 6, 1, 0, 3, 1])), "expiration date"),
])
def test_decoding_names_the_bad_field(tag: int, new: bytes | None, field: str) -> None:
    raw = _replace_in_body(GOOD.body_der, tag, new)
    with pytest.raises(CvcFormatError) as info:
        decode_cv_certificate(raw)
    assert info.value.field == field


def _key_object(*parts: bytes) -> bytes:
    return encode_tlv(0x7F49, b"".join(parts))


OID_512 = b"\x06\x0a\x04\x00\x7f\x00\x07\x02\x02\x02\x02\x05"


@pytest.mark.parametrize(("key", "field"), [
    (_key_object(encode_tlv(0x86, POINT)), "public key OID"),
    (_key_object(OID_512), "public key point"),
    (_key_object(OID_512, encode_tlv(0x81, b"\x7f"), encode_tlv(0x86, POINT)), "domain parameters"),
    (_key_object(OID_512, *(encode_tlv(t, b"\x00\x05") for t in (0x81, 0x82, 0x83)),
                 encode_tlv(0x84, POINT), encode_tlv(0x85, b"\x05"), encode_tlv(0x86, POINT)),
     "domain parameter p"),
    (_key_object(OID_512, encode_tlv(0x86, POINT), encode_tlv(0x81, b"\x05")), "public key"),
    (_key_object(b"\x06\x0a\x04\x80\x7f\x00\x07\x02\x02\x02\x02\x05", encode_tlv(0x86, POINT)),
     "public key OID"),
])
def test_bad_public_keys_name_the_field(key: bytes, field: str) -> None:
    with pytest.raises(CvcFormatError) as info:
        decode_cv_certificate(_replace_in_body(GOOD.body_der, 0x7F49, key))
    assert info.value.field == field


def test_structure_errors() -> None:
    raw = encode_cv_certificate(GOOD)
    with pytest.raises(CvcFormatError, match="exactly one"):
        decode_cv_certificate(raw + b"\x42\x00")
    with pytest.raises(CvcFormatError, match="certificate"):
        decode_cv_certificate(raw[:-1])
    with pytest.raises(CvcFormatError, match="non-minimal"):
        decode_cv_certificate(b"\x7f\x21\x82" + len(raw[4:]).to_bytes(2, "big") + raw[4:])
    with pytest.raises(CvcFormatError, match="signature"):
        decode_cv_certificate(encode_tlv(0x7F21, GOOD.body_der))
    with pytest.raises(CvcFormatError, match="unexpected data object"):
        decode_cv_certificate(encode_tlv(0x7F21, GOOD.body_der + encode_tlv(0x5F37, b"s") + b"\x42\x00"))
    with pytest.raises(CvcFormatError, match="expected bytes"):
        decode_cv_certificate("7F21")  # type: ignore[arg-type]
    with pytest.raises(CvcFormatError):
        decode_cv_request(raw[:10])


def test_authenticated_request_errors() -> None:
    request = CvRequest.from_body(CvRequestBody(PROFILE_ID, None, KEY, "TWMOI00002"), b"\x01" * 8)
    inner = encode_cv_request(request)
    with pytest.raises(CvcFormatError, match="outer CAR"):
        decode_cv_request(encode_tlv(0x67, inner + encode_tlv(0x5F37, b"sig")))
    with pytest.raises(CvcFormatError, match="outer signature"):
        decode_cv_request(encode_tlv(0x67, inner + encode_tlv(0x42, b"TWMOI00001")))
