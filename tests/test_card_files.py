"""SELECT (all P1 modes, FCP), READ BINARY (offsets, SFI, extended Le, end of file), UPDATE BINARY and
the access rules of the file map over both interfaces (CARD-2, CARD-3, CARD-7)."""

from __future__ import annotations

import pytest

from neweid.card import Interface, VirtualCard
from neweid.formats.filemap import ICAO_TRAVEL_AID
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import parse_tlvs
from tests.test_card_support import (
    CERTIFICATE,
    ENCRYPTED,
    HOUSEHOLD,
    OK,
    PUBLIC,
    SAMPLE_FILES,
    personalised_card,
    session,
)

MF = b"\x3f\x00"


@pytest.fixture
def card() -> VirtualCard:
    card, _ = personalised_card()
    return card


def fcp_items(data: bytes) -> dict[int, bytes]:
    (outer,) = parse_tlvs(data)
    assert outer.tag == 0x62
    return {item.tag: item.value for item in outer.children()}


def test_select_mf_by_fid_and_empty_data(card: VirtualCard) -> None:
    term = session(card)
    data, sw = term.plain(0x00, 0xA4, 0x00, 0x00, MF, 256)
    assert sw == OK and fcp_items(data) == {0x82: b"\x38", 0x83: MF}
    data, sw = term.plain(0x00, 0xA4, 0x00, 0x04, b"", 256)
    assert sw == OK and fcp_items(data)[0x83] == MF


def test_select_df_by_aid_returns_fcp_with_aid(card: VirtualCard) -> None:
    term = session(card)
    data, sw = term.plain(0x00, 0xA4, 0x04, 0x04, PUBLIC.aid, 256)
    assert sw == OK
    assert fcp_items(data) == {0x82: b"\x38", 0x83: PUBLIC.fid.to_bytes(2, "big"), 0x84: PUBLIC.aid}


def test_select_child_df_then_ef_with_fcp_size(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0xA4, 0x01, 0x0C, HOUSEHOLD.fid.to_bytes(2, "big"))[1] == OK
    data, sw = term.plain(0x00, 0xA4, 0x02, 0x00, b"\x01\x01", 256)
    assert sw == OK
    items = fcp_items(data)
    assert items[0x80] == len(SAMPLE_FILES[(HOUSEHOLD.fid, 0x0101)]).to_bytes(2, "big")
    assert items[0x82] == b"\x01" and items[0x83] == b"\x01\x01"


def test_select_by_path_from_mf_and_from_current(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0xA4, 0x08, 0x0C, HOUSEHOLD.fid.to_bytes(2, "big") + b"\x01\x1d")[1] == OK
    data, sw = term.read_all()
    assert sw == OK and data == SAMPLE_FILES[(HOUSEHOLD.fid, 0x011D)][:256]
    assert term.plain(0x00, 0xA4, 0x00, 0x0C, MF)[1] == OK
    assert term.plain(0x00, 0xA4, 0x09, 0x0C, HOUSEHOLD.fid.to_bytes(2, "big") + b"\x01\x01")[1] == OK
    assert term.read_all() == (SAMPLE_FILES[(HOUSEHOLD.fid, 0x0101)], OK)


def test_select_by_fid_prefers_current_df(card: VirtualCard) -> None:
    """011D is EF.CardSecurity under the MF and EF.SOD in a zone DF."""
    term = session(card)
    assert term.plain(0x00, 0xA4, 0x04, 0x0C, HOUSEHOLD.aid)[1] == OK
    assert term.plain(0x00, 0xA4, 0x00, 0x0C, b"\x01\x1d")[1] == OK
    assert term.read_all()[0] == SAMPLE_FILES[(HOUSEHOLD.fid, 0x011D)][:256]
    # EF.CardAccess is not in the DF: found under the MF
    assert term.plain(0x00, 0xA4, 0x00, 0x0C, b"\x01\x1c")[1] == OK
    assert term.read_all() == (SAMPLE_FILES[(None, 0x011C)], OK)


@pytest.mark.parametrize(("p1", "data", "sw"), [
    (0x04, ICAO_TRAVEL_AID, StatusWord.FILE_NOT_FOUND),  # the travel application is closed
    (0x04, b"\xf0\x4e\x45\x49\x44\x01\x58", StatusWord.FILE_NOT_FOUND),
    (0x00, b"\x12\x34", StatusWord.FILE_NOT_FOUND),
    (0x01, b"\x01\x1c", StatusWord.FILE_NOT_FOUND),  # an EF is not a child DF
    (0x02, b"\x4e\x01", StatusWord.FILE_NOT_FOUND),  # a DF is not an EF
    (0x02, b"\x01\x05", StatusWord.FILE_NOT_FOUND),  # in the map but never written
    (0x00, b"\x3f", StatusWord.LC_INCONSISTENT_WITH_P1P2),
    (0x08, b"\x4e\x01\x01", StatusWord.LC_INCONSISTENT_WITH_P1P2),
    (0x03, b"", StatusWord.INCORRECT_P1P2),
])
def test_select_errors(card: VirtualCard, p1: int, data: bytes, sw: int) -> None:
    term = session(card)
    if p1 == 0x02 and data == b"\x01\x05":
        assert term.plain(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)[1] == OK
    assert term.plain(0x00, 0xA4, p1, 0x0C, data)[1] == sw


def test_select_bad_p2(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0xA4, 0x00, 0x02, MF)[1] == StatusWord.INCORRECT_P1P2


def test_household_zone_and_mf_files_readable_plain(card: VirtualCard) -> None:
    for interface in Interface:
        term = session(card, interface)
        assert term.select_ef(HOUSEHOLD.fid, 0x0101) == OK
        assert term.read_all() == (SAMPLE_FILES[(HOUSEHOLD.fid, 0x0101)], OK)
        assert term.plain(0x00, 0xA4, 0x00, 0x0C, b"\x2f\x00")[1] == OK  # found under the MF
        assert term.read_all() == (SAMPLE_FILES[(None, 0x2F00)], OK)
        assert term.plain(0x00, 0xB0, 0x9C, 0x00, b"", 256) == (SAMPLE_FILES[(None, 0x011C)], OK)


def test_public_zone_denied_without_pace(card: VirtualCard) -> None:
    term = session(card)
    assert term.select_ef(PUBLIC.fid, 0x0101) == OK  # SELECT needs no access right
    assert term.read_all()[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.plain(0x00, 0xB0, 0x82, 0x00, b"", 256)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.select_ef(None, 0x011D) == OK
    assert term.read_all()[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED  # EF.CardSecurity


def test_read_binary_offsets_sfi_and_extended_le(card: VirtualCard) -> None:
    term = session(card, pace=True)
    photo = SAMPLE_FILES[(PUBLIC.fid, 0x010A)]
    assert term.secure(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)[1] == OK
    # SFI 0A, offset 0, short Le
    assert term.secure(0x00, 0xB0, 0x8A, 0x00, b"", 100) == (photo[:100], OK)
    # the SFI made DG10 current: 15-bit offset now
    assert term.secure(0x00, 0xB0, 0x01, 0x02, b"", 16) == (photo[0x102:0x112], OK)
    # extended Le 0000: up to the end of the file in one go
    assert term.secure(0x00, 0xB0, 0x00, 0x00, b"", 65536) == (photo, OK)
    # fewer bytes than an explicit Le: data + 6282
    assert term.secure(0x00, 0xB0, 0x0B, 0x00, b"", 2000) == (photo[0xB00:], StatusWord.WARNING_END_OF_FILE)
    # offset beyond the end
    assert term.secure(0x00, 0xB0, 0x0B, 0xB8, b"", 1)[1] == StatusWord.WRONG_P1P2
    # SFI of a file not written / not in the map
    assert term.secure(0x00, 0xB0, 0x85, 0x00, b"", 1)[1] == StatusWord.FILE_NOT_FOUND
    assert term.secure(0x00, 0xB0, 0x9F, 0x00, b"", 1)[1] == StatusWord.FILE_NOT_FOUND
    # SFI with reserved bits 6-7
    assert term.secure(0x00, 0xB0, 0xAA, 0x00, b"", 1)[1] == StatusWord.INCORRECT_P1P2


def test_read_binary_needs_le_and_a_current_ef(card: VirtualCard) -> None:
    term = session(card)
    assert term.plain(0x00, 0xB0, 0x00, 0x00, b"", 16)[1] == StatusWord.COMMAND_NOT_ALLOWED_NO_EF
    assert term.select_ef(HOUSEHOLD.fid, 0x0101) == OK
    assert term.plain(0x00, 0xB0, 0x00, 0x00)[1] == StatusWord.WRONG_LENGTH


def test_public_zone_after_pace_over_contactless(card: VirtualCard) -> None:
    term = session(card, Interface.CONTACTLESS, pace=True)
    assert term.select_ef(PUBLIC.fid, 0x0102, secure=True) == OK
    assert term.read_all(secure=True) == (b"A123456789", OK)


def test_contactless_refuses_encrypted_and_certificate_zone(card: VirtualCard) -> None:
    term = session(card, Interface.CONTACTLESS, pace=True)
    for zone in (ENCRYPTED, CERTIFICATE):
        assert term.secure(0x00, 0xA4, 0x04, 0x0C, zone.aid)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
        assert term.secure(0x00, 0xA4, 0x08, 0x0C, zone.fid.to_bytes(2, "big"))[1] == 0x6985
        assert term.secure(0x00, 0xA4, 0x00, 0x0C, zone.fid.to_bytes(2, "big"))[1] == 0x6985


def test_encrypted_zone_needs_terminal_authentication(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.select_ef(ENCRYPTED.fid, 0x0101, secure=True) == OK
    assert term.read_all(secure=True)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_certificate_zone_closed_without_keys(card: VirtualCard) -> None:
    # personalised without certificate-zone keys = the citizen opted out (MGMT-5): the zone is closed
    # (an open zone's certificates are read in tests/test_card_certzone.py)
    term = session(card, pace=True)
    assert term.select_ef(CERTIFICATE.fid, 0x0201, secure=True) == StatusWord.FILE_NOT_FOUND


@pytest.mark.parametrize(("df", "ef"), [(PUBLIC.fid, 0x0101), (None, 0x011C), (HOUSEHOLD.fid, 0x011D)])
def test_update_of_read_only_files_denied(card: VirtualCard, df: int | None, ef: int) -> None:
    term = session(card, pace=True)
    assert term.select_ef(df, ef, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_update_of_updatable_files_needs_ta(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.select_ef(HOUSEHOLD.fid, 0x0101, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.read_all(secure=True) == (SAMPLE_FILES[(HOUSEHOLD.fid, 0x0101)], OK)


def test_get_data_uid_contactless_only(card: VirtualCard) -> None:
    term = session(card, Interface.CONTACTLESS)
    data, sw = term.plain(0xFF, 0xCA, 0x00, 0x00, b"", 256)
    assert sw == OK and data == card.uid and len(data) == 4 and data[0] == 0x08
    term = session(card, Interface.CONTACT)
    assert term.plain(0xFF, 0xCA, 0x00, 0x00, b"", 256)[1] == StatusWord.FUNCTION_NOT_SUPPORTED
    assert term.plain(0x00, 0xCA, 0x00, 0x00, b"", 256)[1] == StatusWord.INS_NOT_SUPPORTED


def test_fresh_uid_per_power_on(card: VirtualCard) -> None:
    uids = set()
    for _ in range(8):
        session(card, Interface.CONTACTLESS)
        uid = card.uid
        assert uid is not None and uid[0] == 0x08
        uids.add(uid)
    assert len(uids) == 8
    uid = card.uid
    card.reset()  # a warm reset keeps the session's UID
    assert card.uid == uid and card.interface is Interface.CONTACTLESS


def test_get_data_uid_does_not_end_sm(card: VirtualCard) -> None:
    term = session(card, Interface.CONTACTLESS, pace=True)
    assert term.plain(0xFF, 0xCA, 0x00, 0x00, b"", 256)[1] == OK
    assert term.select_ef(PUBLIC.fid, 0x0102, secure=True) == OK
