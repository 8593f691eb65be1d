"""PIN1, PIN2 and the user code on the chip (CARD-5): formats, retry counters, blocking, the default
user code, unblocking, interface and SM rules, and persistence of the counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from neweid.card import Interface, VirtualCard
from neweid.formats.iso7816 import PinRef, StatusWord
from tests.test_card_support import (
    OK,
    PIN1,
    PIN2,
    USER_CODE,
    Terminal,
    personalised_card,
    seeded_rng,
    session,
)

BLOCKED = StatusWord.AUTHENTICATION_METHOD_BLOCKED
WRONG_DATA = StatusWord.WRONG_DATA
NEW_USER_CODE = "NewCode99"


@pytest.fixture
def card() -> VirtualCard:
    card, _ = personalised_card()
    return card


def change(term: Terminal, ref: PinRef, new: str) -> int:
    return term.secure(0x00, 0x24, 0x01, ref, new.encode())[1]


def rrc(term: Terminal, p1: int, ref: PinRef, new: str = "") -> int:
    return term.secure(0x00, 0x2C, p1, ref, new.encode())[1]


def activate_user_code(term: Terminal) -> None:
    assert term.verify(PinRef.USER_CODE, USER_CODE) == OK
    assert change(term, PinRef.USER_CODE, NEW_USER_CODE) == OK


def block(term: Terminal, ref: PinRef, wrong: str) -> None:
    for left in range(2, -1, -1):
        assert term.verify(ref, wrong) == 0x63C0 | left


def test_wrong_pin1_counts_down_and_blocks(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, "000000") == 0x63C2
    assert term.verify(PinRef.PIN1, "000000") == 0x63C1
    assert term.verify(PinRef.PIN1, "000000") == 0x63C0
    assert term.verify(PinRef.PIN1, PIN1) == BLOCKED  # even the right PIN
    assert term.verify(PinRef.PIN1, "") == BLOCKED


def test_correct_pin_resets_counter(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN2, "00000000") == 0x63C2
    assert term.verify(PinRef.PIN2, PIN2) == OK
    assert term.verify(PinRef.PIN2, "00000000") == 0x63C2


def test_verify_status_query(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, "") == 0x63C3
    assert term.verify(PinRef.USER_CODE, "") == 0x63CA
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert term.verify(PinRef.PIN1, "") == OK
    assert term.verify(PinRef.PIN1, "999999") == 0x63C2  # a failure drops the verified state
    assert term.verify(PinRef.PIN1, "") == 0x63C2


@pytest.mark.parametrize(("ref", "value"), [
    (PinRef.PIN1, "12345"), (PinRef.PIN1, "1234567"), (PinRef.PIN1, "12345a"),
    (PinRef.PIN2, "1234567"), (PinRef.PIN2, "1234567890123"), (PinRef.PIN2, "1234 5678"),
    (PinRef.USER_CODE, "abc12"), (PinRef.USER_CODE, "abcdef12345"), (PinRef.USER_CODE, "abc-123"),
])
def test_format_errors_do_not_consume_tries(card: VirtualCard, ref: PinRef, value: str) -> None:
    term = session(card, pace=True)
    for _ in range(5):
        assert term.verify(ref, value) == WRONG_DATA
    tries = 10 if ref is PinRef.USER_CODE else 3
    assert term.verify(ref, "") == 0x63C0 | tries


def test_pin_commands_refuse_contactless_and_plain(card: VirtualCard) -> None:
    term = session(card, Interface.CONTACTLESS, pace=True)
    assert term.verify(PinRef.PIN1, PIN1) == StatusWord.CONDITIONS_NOT_SATISFIED
    assert change(term, PinRef.PIN1, "123123") == StatusWord.CONDITIONS_NOT_SATISFIED
    assert rrc(term, 0x03, PinRef.PIN1) == StatusWord.CONDITIONS_NOT_SATISFIED
    term = session(card)
    assert term.plain(0x00, 0x20, 0x00, 0x81, PIN1.encode())[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    term.pace()
    assert term.verify(PinRef.PIN1, "") == 0x63C3  # nothing was consumed


def test_bad_references(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.secure(0x00, 0x20, 0x00, 0x84, b"123456")[1] == StatusWord.REFERENCE_DATA_NOT_FOUND
    assert term.secure(0x00, 0x20, 0x01, 0x81, b"123456")[1] == StatusWord.INCORRECT_P1P2
    assert term.secure(0x00, 0x24, 0x00, 0x81, b"123456")[1] == StatusWord.INCORRECT_P1P2
    activate_user_code(term)
    assert rrc(term, 0x03, PinRef.USER_CODE) == StatusWord.REFERENCE_DATA_NOT_FOUND
    assert rrc(term, 0x01, PinRef.PIN1) == StatusWord.INCORRECT_P1P2


def test_change_reference_data(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert change(term, PinRef.PIN1, "654321") == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert change(term, PinRef.PIN1, "65432") == WRONG_DATA
    assert change(term, PinRef.PIN1, "654321") == OK
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, PIN1) == 0x63C2
    assert term.verify(PinRef.PIN1, "654321") == OK


def test_default_user_code_must_be_changed_before_reset_retry_counter(card: VirtualCard) -> None:
    term = session(card, pace=True)
    block(term, PinRef.PIN1, "000000")
    assert rrc(term, 0x03, PinRef.PIN1) == StatusWord.SECURITY_STATUS_NOT_SATISFIED  # not verified
    assert term.verify(PinRef.USER_CODE, USER_CODE) == OK
    assert rrc(term, 0x03, PinRef.PIN1) == StatusWord.CONDITIONS_NOT_SATISFIED  # still the default
    assert change(term, PinRef.USER_CODE, NEW_USER_CODE) == OK
    assert rrc(term, 0x03, PinRef.PIN1) == OK
    assert term.verify(PinRef.PIN1, PIN1) == OK
    # the old default no longer verifies
    term = session(card, pace=True)
    assert term.verify(PinRef.USER_CODE, USER_CODE) == 0x63C9
    assert term.verify(PinRef.USER_CODE, NEW_USER_CODE) == OK


def test_unblock_with_new_pin(card: VirtualCard) -> None:
    term = session(card, pace=True)
    block(term, PinRef.PIN2, "00000000")
    activate_user_code(term)
    assert rrc(term, 0x02, PinRef.PIN2, "1234567") == WRONG_DATA
    assert rrc(term, 0x03, PinRef.PIN2, "12345678") == StatusWord.WRONG_LENGTH
    assert rrc(term, 0x02, PinRef.PIN2, "123456789012") == OK
    assert term.verify(PinRef.PIN2, PIN2) == 0x63C2
    assert term.verify(PinRef.PIN2, "123456789012") == OK


def test_initial_pin_set_with_user_code() -> None:
    card = VirtualCard.create(None, rng=seeded_rng(5))
    from tests.test_card_support import personalise

    personalise(card, pins=False)
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, PIN1) == StatusWord.REFERENCE_DATA_NOT_USABLE
    activate_user_code(term)
    assert rrc(term, 0x03, PinRef.PIN1) == StatusWord.REFERENCE_DATA_NOT_USABLE
    assert rrc(term, 0x02, PinRef.PIN1, "246810") == OK
    assert term.verify(PinRef.PIN1, "246810") == OK


def test_user_code_has_ten_tries(card: VirtualCard) -> None:
    term = session(card, pace=True)
    for left in range(9, -1, -1):
        assert term.verify(PinRef.USER_CODE, "wrong1") == 0x63C0 | left
    assert term.verify(PinRef.USER_CODE, USER_CODE) == BLOCKED


def test_counters_persist_across_power_off_and_load(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    card, _ = personalised_card(path=path)
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, "000000") == 0x63C2
    card.power_off()
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, "") == 0x63C2
    assert term.verify(PinRef.PIN1, "000000") == 0x63C1
    # no save call needed: the image was written before the answer left the card
    other = VirtualCard.load(path, rng=seeded_rng(9))
    term = session(other, pace=True)
    assert term.verify(PinRef.PIN1, "") == 0x63C1
    assert term.verify(PinRef.PIN1, "000000") == 0x63C0
    assert term.verify(PinRef.PIN1, PIN1) == BLOCKED
    assert "111111" not in path.read_text()  # PINs are stored hashed


def test_verified_state_is_per_session(card: VirtualCard) -> None:
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, PIN1) == OK
    term.pace()  # a new PACE run drops the verified PINs
    assert term.verify(PinRef.PIN1, "") == 0x63C3
