"""PACE on the chip (CAN and MRZ), secure messaging rules (replay, tampering, plain commands), Active
Authentication and GET CHALLENGE (CARD-3, CARD-4, docs/protocol-profile.md)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.card import Interface, VirtualCard
from neweid.crypto.aa import verify_challenge
from neweid.crypto.errors import AuthenticationError
from neweid.formats.iso7816 import PasswordRef, StatusWord
from neweid.formats.tlv import encode_tlv
from tests.test_card_support import (
    CAN,
    MRZ_SEED,
    OK,
    PUBLIC,
    PaceFailedError,
    Terminal,
    ga,
    mse_set_at,
    personalised_card,
    session,
    split,
)


@pytest.fixture
def card() -> VirtualCard:
    card, _ = personalised_card()
    return card


def read_name(term: Terminal) -> tuple[bytes, int]:
    sw = term.select_ef(PUBLIC.fid, 0x0101, secure=True)
    if sw != OK:
        return b"", sw
    return term.read_all(secure=True)


@pytest.mark.parametrize(("ref", "secret"), [(PasswordRef.CAN, CAN), (PasswordRef.MRZ, MRZ_SEED)])
@pytest.mark.parametrize("interface", list(Interface))
def test_pace_then_public_zone(card: VirtualCard, ref: PasswordRef, secret: str,
                               interface: Interface) -> None:
    term = session(card, interface)
    term.pace(ref, secret)
    data, sw = read_name(term)
    assert sw == OK and data.startswith(b"name")


def test_wrong_can_is_6300_and_no_access(card: VirtualCard) -> None:
    term = session(card)
    with pytest.raises(PaceFailedError) as info:
        term.pace(PasswordRef.CAN, "654321")
    assert info.value.sw == StatusWord.AUTHENTICATION_FAILED
    assert term.select_ef(PUBLIC.fid, 0x0101) == OK
    assert term.read_all()[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    # the failed run is over: GENERAL AUTHENTICATE needs a new MSE:Set AT
    assert term.plain(0x10, 0x86, 0, 0, ga(b""), 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    term.pace()  # and a correct run still works
    assert read_name(term)[1] == OK


def test_wrong_mrz_is_6300(card: VirtualCard) -> None:
    term = session(card)
    with pytest.raises(PaceFailedError) as info:
        term.pace(PasswordRef.MRZ, MRZ_SEED.replace("L898", "L899"))
    assert info.value.sw == StatusWord.AUTHENTICATION_FAILED


@pytest.mark.parametrize(("data", "sw"), [
    (mse_set_at(PasswordRef.CAN, bytes.fromhex("04007F00070202040202")), StatusWord.WRONG_DATA),  # AES-128
    (mse_set_at(PasswordRef.CAN, b"\x80"), StatusWord.WRONG_DATA),  # malformed OID
    (mse_set_at(PasswordRef.CAN)[:-1] + b"\x03", StatusWord.REFERENCE_DATA_NOT_FOUND),  # ref 03
    (mse_set_at(PasswordRef.CAN) + encode_tlv(0x84, b"\x0d"), StatusWord.WRONG_DATA),  # brainpoolP256r1
    (encode_tlv(0x83, b"\x02"), StatusWord.WRONG_DATA),  # no OID
    (b"\x80\x05\x01", StatusWord.WRONG_DATA),  # not TLV
])
def test_mse_set_at_errors(card: VirtualCard, data: bytes, sw: int) -> None:
    term = session(card)
    assert term.plain(0x00, 0x22, 0xC1, 0xA4, data)[1] == sw


def test_mse_set_at_with_explicit_parameter_id(card: VirtualCard) -> None:
    term = session(card)
    data = mse_set_at(PasswordRef.CAN) + encode_tlv(0x84, b"\x12")
    assert term.plain(0x00, 0x22, 0xC1, 0xA4, data)[1] == OK
    assert term.plain(0x00, 0x22, 0x81, 0xB8, data)[1] == StatusWord.INCORRECT_P1P2


def test_general_authenticate_out_of_order(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x10, 0x86, 0, 0, ga(b""), 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0x00, 0x22, 0xC1, 0xA4, mse_set_at(PasswordRef.CAN))[1] == OK
    # step 3 before step 1
    assert term.plain(0x10, 0x86, 0, 0, ga(encode_tlv(0x83, b"\x04" + bytes(132))), 256)[1] == 0x6985


def test_invalid_mapping_point_is_6a80(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0x22, 0xC1, 0xA4, mse_set_at(PasswordRef.CAN))[1] == OK
    assert term.plain(0x10, 0x86, 0, 0, ga(b""), 256)[1] == OK
    bad_point = b"\x04" + bytes(131) + b"\x01"
    assert term.plain(0x10, 0x86, 0, 0, ga(encode_tlv(0x81, bad_point)), 256)[1] == StatusWord.WRONG_DATA


def test_general_authenticate_malformed_7c(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0x22, 0xC1, 0xA4, mse_set_at(PasswordRef.CAN))[1] == OK
    assert term.plain(0x10, 0x86, 0, 0, encode_tlv(0x80, b""), 256)[1] == StatusWord.WRONG_DATA


def test_replayed_sm_command_is_6988_and_ends_session(card: VirtualCard) -> None:
    term = session(card, pace=True)
    raw = term.wrap(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)
    response = card.transmit(raw)
    assert term.sm is not None
    assert term.sm.unwrap_response(response) == (b"", OK)
    assert card.transmit(raw) == b"\x69\x88"  # replay: old SSC
    # the session is over: even a correctly MAC'd next command is refused
    assert term.secure(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_altered_sm_command_is_6988_and_ends_session(card: VirtualCard) -> None:
    term = session(card, pace=True)
    raw = bytearray(term.wrap(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid))
    raw[3] ^= 0x04  # P2 0C → 08: the MAC covers the header
    assert card.transmit(bytes(raw)) == b"\x69\x88"
    term.pace()
    raw = bytearray(term.wrap(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid))
    raw[8] ^= 0x01  # inside the cryptogram
    assert card.transmit(bytes(raw)) == b"\x69\x88"
    assert read_name(term)[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_missing_mac_is_6987(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert card.transmit(bytes.fromhex("0CA4040C")) == b"\x69\x87"  # no data objects at all
    term.pace()
    body = encode_tlv(0x97, b"\x00")
    assert split(card.transmit(bytes([0x0C, 0xB0, 0, 0, len(body)]) + body + b"\x00"))[1] == 0x6987


def test_plain_command_ends_sm_session(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert read_name(term)[1] == OK
    # a plain SELECT is processed plainly ...
    assert term.plain(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)[1] == OK
    # ... the access rights are gone ...
    assert term.plain(0x00, 0xB0, 0x81, 0x00, b"", 256)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    # ... and so are the keys
    assert read_name(term)[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_sm_status_words_are_protected(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.sm is not None
    response = card.transmit(term.wrap(0x00, 0xA4, 0x04, 0x0C, b"\xf0\x00\x00"))
    assert len(response) > 2  # DO 99 + DO 8E
    assert term.sm.unwrap_response(response) == (b"", StatusWord.FILE_NOT_FOUND)


def test_new_mse_ends_sm_session(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.secure(0x00, 0x22, 0xC1, 0xA4, mse_set_at(PasswordRef.CAN))[1] == OK
    assert read_name(term)[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_power_off_ends_session(card: VirtualCard) -> None:
    term = session(card, pace=True)
    card.power_off()
    card.power_on()
    assert read_name(term)[1] == StatusWord.SM_DATA_OBJECTS_INCORRECT


def test_active_authentication_verifies_with_generated_key() -> None:
    card, point = personalised_card()
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), point)
    term = session(card, Interface.CONTACTLESS, pace=True)
    challenge, sw = term.secure(0x00, 0x84, 0x00, 0x00, b"", 8)
    assert sw == OK and len(challenge) == 8
    signature, sw = term.secure(0x00, 0x88, 0x00, 0x00, challenge, 256)
    assert sw == OK and len(signature) == 132
    verify_challenge(public, challenge, signature)
    with pytest.raises(AuthenticationError):
        verify_challenge(public, bytes(8), signature)


def test_active_authentication_rules(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0x88, 0x00, 0x00, bytes(8), 256)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    term.pace()
    assert term.secure(0x00, 0x88, 0x00, 0x00, bytes(7), 256)[1] == StatusWord.WRONG_LENGTH
    assert term.secure(0x00, 0x88, 0x00, 0x00, bytes(9), 256)[1] == StatusWord.WRONG_LENGTH
    assert term.secure(0x00, 0x88, 0x01, 0x00, bytes(8), 256)[1] == StatusWord.INCORRECT_P1P2


def test_get_challenge_is_random(card: VirtualCard) -> None:
    term = session(card)
    first, sw1 = term.plain(0x00, 0x84, 0x00, 0x00, b"", 8)
    second, sw2 = term.plain(0x00, 0x84, 0x00, 0x00, b"", 8)
    assert sw1 == sw2 == OK and len(first) == len(second) == 8 and first != second
    assert term.plain(0x00, 0x84, 0x00, 0x00)[1] == StatusWord.WRONG_LENGTH
