"""The card image: atomic save after every state change, refusal of damaged images, and crash safety."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.card import CardImageError, LifeCycle, VirtualCard
from neweid.card import image as card_image
from neweid.card.pins import PinRecord
from neweid.card.state import PersistentState
from neweid.formats.iso7816 import PinRef, StatusWord
from tests.test_card_support import CAN, OK, PIN1, personalised_card, seeded_rng, session


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "card.json"
    personalised_card(path=target)
    return target


def test_create_load_round_trip(path: Path) -> None:
    card = VirtualCard.load(path)
    assert card.lifecycle is LifeCycle.OPERATIONAL
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, PIN1) == OK
    doc = json.loads(path.read_text())
    assert doc["format"] == "neweid-card-image" and doc["version"] == 2
    assert doc["content"]["can"] == CAN


def test_create_refuses_to_overwrite(path: Path) -> None:
    with pytest.raises(CardImageError, match="exists"):
        VirtualCard.create(path)


def test_missing_image(tmp_path: Path) -> None:
    with pytest.raises(CardImageError, match="cannot read"):
        VirtualCard.load(tmp_path / "nothing.json")


def test_truncated_image_refused(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CardImageError, match="truncated"):
        VirtualCard.load(path)


def test_altered_image_refused(path: Path) -> None:
    doc = json.loads(path.read_text())
    record = doc["content"]["pins"]["PIN1"]
    record["tries_left"] = 3 if record["tries_left"] != 3 else 2
    path.write_text(json.dumps(doc))
    with pytest.raises(CardImageError, match="altered"):
        VirtualCard.load(path)


def test_wrong_version_and_bad_content_refused(path: Path) -> None:
    doc = json.loads(path.read_text())
    path.write_text(json.dumps(doc | {"version": 99}))
    with pytest.raises(CardImageError, match="version"):
        VirtualCard.load(path)
    content = doc["content"] | {"lifecycle": "bogus"}
    path.write_bytes(card_image.encode_image(content))  # a correct digest over invalid content
    with pytest.raises(CardImageError, match="invalid content"):
        VirtualCard.load(path)
    content = doc["content"] | {"files": {"4E02/0FFF": ""}}
    path.write_bytes(card_image.encode_image(content))
    with pytest.raises(CardImageError, match="unknown or oversized"):
        VirtualCard.load(path)


def test_every_state_change_is_saved_before_the_answer(path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    card = VirtualCard.load(path, rng=seeded_rng(4))
    term = session(card, pace=True)
    saved: list[int] = []
    real = card_image.save_image

    def spy(target: Path, content: dict[str, object]) -> None:
        real(target, content)
        saved.append(_tries_on_disk(target))

    monkeypatch.setattr("neweid.card.chip.save_image", spy)
    assert term.verify(PinRef.PIN1, "000000") == 0x63C2
    assert saved == [2]  # the decremented counter was on disk when the answer was built
    assert term.select_ef(None, 0x2F00, secure=True) == OK
    assert term.read_all(secure=True)[1] == OK
    assert saved == [2]  # SELECT and READ BINARY change nothing persistent
    assert term.verify(PinRef.PIN1, PIN1) == OK
    assert saved == [2, 3]


def _tries_on_disk(target: Path) -> int:
    tries = json.loads(target.read_text())["content"]["pins"]["PIN1"]["tries_left"]
    assert isinstance(tries, int)
    return tries


def test_failed_save_answers_6581_and_keeps_old_state(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    card = VirtualCard.load(path, rng=seeded_rng(4))
    term = session(card, pace=True)

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    assert term.verify(PinRef.PIN1, "000000") == StatusWord.MEMORY_FAILURE
    monkeypatch.undo()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # temp file removed
    # the image on disk and the card in memory both still have 3 tries
    assert session(VirtualCard.load(path), pace=True).verify(PinRef.PIN1, "") == 0x63C3
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, "") == 0x63C3


class Crash(BaseException):
    """The process dies (power cut) in the middle of writing the image."""


@pytest.mark.parametrize("where", ["replace", "fsync"])
def test_crash_during_save_leaves_the_old_image(path: Path, monkeypatch: pytest.MonkeyPatch,
                                                where: str) -> None:
    before = path.read_bytes()
    card = VirtualCard.load(path, rng=seeded_rng(4))
    term = session(card, pace=True)

    def crash(*args: object) -> None:
        raise Crash

    monkeypatch.setattr(os, where, crash)
    with pytest.raises(Crash):
        term.verify(PinRef.PIN1, "000000")
    monkeypatch.undo()
    assert path.read_bytes() == before
    reloaded = VirtualCard.load(path)
    assert session(reloaded, pace=True).verify(PinRef.PIN1, "") == 0x63C3


def test_torn_temp_file_is_ignored(path: Path) -> None:
    (path.parent / f".{path.name}.abc.tmp").write_bytes(path.read_bytes()[:100])
    card = VirtualCard.load(path)
    term = session(card, pace=True)
    assert term.verify(PinRef.PIN1, "000000") == 0x63C2
    assert session(VirtualCard.load(path), pace=True).verify(PinRef.PIN1, "") == 0x63C2


@st.composite
def states(draw: st.DrawFn) -> PersistentState:
    files = draw(st.dictionaries(st.sampled_from(["3F00/2F00", "4E02/0101", "4E02/010A", "4E04/0201"]),
                                 st.binary(max_size=64), max_size=4))
    pins = {}
    for ref in draw(st.sets(st.sampled_from(list(PinRef)))):
        record = PinRecord.create(ref, b"123456", seeded_rng(1), iterations=1, default=draw(st.booleans()))
        pins[ref] = replace(record, tries_left=draw(st.integers(0, record.max_tries)))
    return PersistentState(
        chip_serial=draw(st.binary(min_size=4, max_size=10)),
        lifecycle=draw(st.sampled_from(list(LifeCycle))),
        files=files,
        aa_key=draw(st.one_of(st.none(), st.binary(min_size=1, max_size=80))),
        pins=pins,
        can=draw(st.one_of(st.none(), st.from_regex(r"[0-9]{6}", fullmatch=True))),
        mrz_seed=draw(st.one_of(st.none(), st.from_regex(r"[0-9A-Z<]{24}", fullmatch=True))),
        card_date=draw(st.one_of(st.none(), st.just("20261201"))),
    )


@given(states())
def test_image_codec_round_trip(state: PersistentState) -> None:
    raw = card_image.encode_image(state.to_json())
    assert PersistentState.from_json(card_image.decode_image(raw)) == state


@given(states(), st.integers(min_value=0), st.integers(1, 255))
def test_any_flipped_byte_is_refused(state: PersistentState, where: int, flip: int) -> None:
    raw = bytearray(card_image.encode_image(state.to_json()))
    raw[where % len(raw)] ^= flip
    try:
        content = card_image.decode_image(bytes(raw))
    except CardImageError:
        return
    # only whitespace/formatting changes can survive; the content must then be identical
    assert card_image.canonical_json(content) == card_image.canonical_json(state.to_json())
