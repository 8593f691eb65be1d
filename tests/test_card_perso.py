"""Personalisation by APDUs (PUT DATA, GENERATE ASYMMETRIC KEY PAIR, UPDATE BINARY with chaining,
ERASE BINARY, ACTIVATE) and the operational state that follows (CARD-6, CARD-7, CARD-8)."""

from __future__ import annotations

import pytest

from neweid.card import CardSetupError, Interface, LifeCycle, VirtualCard
from neweid.formats.iso7816 import PutDataTag, StatusWord
from neweid.formats.tlv import parse_tlvs
from tests.test_card_support import (
    CAN,
    OK,
    PUBLIC,
    Terminal,
    personalise,
    personalised_card,
    seeded_rng,
    session,
)

SERIAL = bytes.fromhex("04A1B2C3D4E5F6")


@pytest.fixture
def blank() -> VirtualCard:
    return VirtualCard.create(None, rng=seeded_rng(11), chip_serial=SERIAL)


def put(term: Terminal, tag: PutDataTag, value: bytes) -> int:
    return term.plain(0x00, 0xDA, tag >> 8, tag & 0xFF, value)[1]


@pytest.mark.parametrize(("tag", "value"), [
    (PutDataTag.CAN, b"12345"), (PutDataTag.CAN, b"12345a"),
    (PutDataTag.MRZ_KEY_SEED, b"l898902c<369080619406236"), (PutDataTag.MRZ_KEY_SEED, b"L898902C"),
    (PutDataTag.PIN1, b"1234567"), (PutDataTag.PIN2, b"1234"), (PutDataTag.USER_CODE, b"ab"),
    (PutDataTag.CARD_DATE, b"20261301"), (PutDataTag.CARD_DATE, b"2026-1-1"),
])
def test_put_data_format_errors(blank: VirtualCard, tag: PutDataTag, value: bytes) -> None:
    term = session(blank)
    assert put(term, tag, value) == StatusWord.WRONG_DATA


def test_put_data_unknown_tag(blank: VirtualCard) -> None:
    term = session(blank)
    assert term.plain(0x00, 0xDA, 0x01, 0x99, b"x")[1] == StatusWord.REFERENCE_DATA_NOT_FOUND


def test_personalisation_is_contact_only(blank: VirtualCard) -> None:
    term = session(blank, Interface.CONTACTLESS)
    assert put(term, PutDataTag.CAN, CAN.encode()) == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0x00, 0x46, 0x00, 0x01, b"", 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0xFF, 0xCA, 0x00, 0x00, b"", 256) == (SERIAL, OK)
    # the production UID (not a random one) before activation
    assert blank.uid == SERIAL


def test_generate_key_once(blank: VirtualCard) -> None:
    term = session(blank)
    assert term.plain(0x00, 0x46, 0x00, 0x14, b"", 256)[1] == StatusWord.REFERENCE_DATA_NOT_FOUND
    data, sw = term.plain(0x00, 0x46, 0x00, 0x01, b"", 256)
    assert sw == OK
    (outer,) = parse_tlvs(data)
    (point,) = outer.children()
    assert (outer.tag, point.tag, len(point.value), point.value[0]) == (0x7F49, 0x86, 133, 0x04)
    assert term.plain(0x00, 0x46, 0x00, 0x01, b"", 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED


def test_activate_checks_mandatory_items(blank: VirtualCard) -> None:
    term = session(blank)
    assert term.plain(0x00, 0x44, 0x00, 0x00)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert blank.lifecycle is LifeCycle.PERSONALISATION
    personalise(blank, activate=False)
    term = session(blank)
    assert term.plain(0x00, 0xA4, 0x04, 0x0C, PUBLIC.aid)[1] == OK
    assert term.plain(0x00, 0x44, 0x00, 0x00)[1] == StatusWord.CONDITIONS_NOT_SATISFIED  # MF not selected
    assert term.plain(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")[1] == OK
    assert term.plain(0x00, 0x44, 0x00, 0x00)[1] == OK
    assert blank.lifecycle.value == LifeCycle.OPERATIONAL.value


def test_personalisation_commands_refused_after_activate() -> None:
    card, _ = personalised_card()
    term = session(card)
    assert put(term, PutDataTag.CAN, b"999999") == StatusWord.CONDITIONS_NOT_SATISFIED
    assert put(term, PutDataTag.PIN1, b"999999") == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0x00, 0x46, 0x00, 0x01, b"", 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0x00, 0x44, 0x00, 0x00)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.select_ef(PUBLIC.fid, 0x0101) == OK
    assert term.plain(0x00, 0x0E, 0x00, 0x00)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.plain(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    term.pace()  # the CAN was not changed
    assert term.select_ef(PUBLIC.fid, 0x0101, secure=True) == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_update_binary_with_chaining_and_extended_length(blank: VirtualCard) -> None:
    term = session(blank)
    photo = bytes(range(256)) * 40  # 10240 bytes
    assert term.select_ef(PUBLIC.fid, 0x010A) == OK
    chunks = [photo[i:i + 255] for i in range(0, 5100, 255)]
    for chunk in chunks[:-1]:
        assert term.plain(0x10, 0xD6, 0x00, 0x00, chunk)[1] == OK
    assert term.plain(0x00, 0xD6, 0x00, 0x00, chunks[-1])[1] == OK
    assert term.plain(0x00, 0xD6, 0x13, 0xEC, photo[5100:], extended=True)[1] == OK
    data, sw = term.plain(0x00, 0xB0, 0x00, 0x00, b"", 65536, extended=True)
    assert (data, sw) == (photo, OK)


def test_interrupted_chain(blank: VirtualCard) -> None:
    term = session(blank)
    assert term.select_ef(PUBLIC.fid, 0x0101) == OK
    assert term.plain(0x10, 0xD6, 0x00, 0x00, b"abc")[1] == OK
    assert term.plain(0x00, 0xB0, 0x00, 0x00, b"", 256)[1] == StatusWord.LAST_COMMAND_EXPECTED
    assert term.plain(0x00, 0xD6, 0x00, 0x00, b"xyz")[1] == OK  # a new, unchained command
    assert term.plain(0x00, 0xB0, 0x00, 0x00, b"", 256) == (b"xyz", OK)


def test_update_binary_limits_and_erase(blank: VirtualCard) -> None:
    term = session(blank)
    assert term.select_ef(PUBLIC.fid, 0x0102) == OK  # DG2 holds 32 bytes
    assert term.plain(0x00, 0xD6, 0x00, 0x1F, b"ab")[1] == StatusWord.NOT_ENOUGH_MEMORY
    assert term.plain(0x00, 0xD6, 0x00, 0x04, b"ab")[1] == OK  # a gap is zero-filled
    assert term.plain(0x00, 0xB0, 0x00, 0x00, b"", 256) == (b"\x00\x00\x00\x00ab", OK)
    assert term.plain(0x00, 0x0E, 0x00, 0x05)[1] == OK  # truncate
    assert term.plain(0x00, 0xB0, 0x00, 0x00, b"", 256) == (b"\x00\x00\x00\x00a", OK)
    assert term.plain(0x00, 0x0E, 0x00, 0x09)[1] == StatusWord.WRONG_P1P2
    assert term.plain(0x00, 0xD6, 0x00, 0x00)[1] == StatusWord.WRONG_LENGTH


def test_bad_chip_serial_and_interface() -> None:
    with pytest.raises(CardSetupError):
        VirtualCard.create(None, chip_serial=b"\x01\x02\x03")
    card = VirtualCard.create(None)
    with pytest.raises(CardSetupError):
        card.power_on("nfc")  # type: ignore[arg-type]


def test_chained_update_binary_under_secure_messaging(blank: VirtualCard) -> None:
    """Each command of an SM chain is protected on its own; the card joins the plaintexts."""
    term = session(blank)
    assert put(term, PutDataTag.CAN, CAN.encode()) == OK
    term.pace()
    assert term.select_ef(PUBLIC.fid, 0x0104, secure=True) == OK
    assert term.secure(0x10, 0xD6, 0x00, 0x00, b"first part, ")[1] == OK
    assert term.secure(0x10, 0xD6, 0x00, 0x00, b"second part, ")[1] == OK
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"end")[1] == OK
    assert term.read_all(secure=True) == (b"first part, second part, end", OK)
    # a chain begun under SM cannot be finished by a plain command
    assert term.secure(0x10, 0xD6, 0x00, 0x00, b"x")[1] == OK
    assert term.plain(0x00, 0xD6, 0x00, 0x00, b"y")[1] == StatusWord.LAST_COMMAND_EXPECTED


def test_power_on_states() -> None:
    card, _ = personalised_card()
    assert not card.powered and card.uid is None
    atr = card.power_on(Interface.CONTACTLESS)
    assert atr == card.atr and card.powered and card.interface is Interface.CONTACTLESS
    card.power_off()
    assert card.reset() == card.atr and card.interface is Interface.CONTACTLESS
