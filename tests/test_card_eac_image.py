"""The EAC fields of the card image (format version 2): round trip, migration of version-1 images, and
refusal of bad EAC content."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.card import CardImageError, VirtualCard
from neweid.card import image as card_image
from neweid.card.eac import TrustedKey
from neweid.card.state import PersistentState
from neweid.formats.chat import NeidRight, Role
from neweid.formats.iso7816 import KeyRef, PinRef
from tests.test_card_support import personalised_card, seeded_rng, session

EAC_FIELDS = ("trust_points", "ca_key", "cert_keys", "cert_zone_closed")

trusted_keys = st.builds(
    TrustedKey,
    chr=st.from_regex(r"TW[A-Z]{1,9}[0-9]{5}", fullmatch=True),
    point=st.binary(min_size=1, max_size=133),
    role=st.sampled_from(list(Role)),
    rights=st.integers(0, (1 << 17) - 1).map(NeidRight),
    effective=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
    expiry=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
)


@st.composite
def eac_states(draw: st.DrawFn) -> PersistentState:
    refs = draw(st.sets(st.sampled_from([KeyRef.RSA_SIGN, KeyRef.RSA_ENCRYPT, KeyRef.EC_SIGN,
                                         KeyRef.EC_KEY_AGREEMENT])))
    return PersistentState(
        chip_serial=draw(st.binary(min_size=4, max_size=10)),
        card_date=draw(st.one_of(st.none(), st.dates(dt.date(2000, 1, 1)).map(lambda d: f"{d:%Y%m%d}"))),
        trust_points=draw(st.lists(trusted_keys, max_size=2)),
        ca_key=draw(st.one_of(st.none(), st.binary(min_size=1, max_size=80))),
        cert_keys={ref: draw(st.binary(min_size=1, max_size=40)) for ref in refs},
        cert_zone_closed=draw(st.booleans()),
    )


@given(eac_states())
def test_eac_state_round_trip(state: PersistentState) -> None:
    raw = card_image.encode_image(state.to_json())
    assert json.loads(raw)["version"] == 2
    assert PersistentState.from_json(card_image.decode_image(raw)) == state


def _v1_image(path: Path) -> None:
    """Rewrite ``path`` as the version-1 image an older neweid wrote (no EAC fields)."""
    doc = json.loads(path.read_text())
    content = {k: v for k, v in doc["content"].items() if k not in EAC_FIELDS}
    path.write_text(json.dumps({"format": "neweid-card-image", "version": 1,
                                "sha256": card_image.digest(content), "content": content}))


def test_version_1_image_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    personalised_card(path=path)
    _v1_image(path)
    old = VirtualCard.load(path, rng=seeded_rng(2))
    term = session(old, pace=True)  # the card works as before
    assert term.select_ef(None, 0x011C, secure=True) == 0x9000
    state = card_image.load_state(path)
    eac = (state.trust_points, state.ca_key, state.cert_keys, state.cert_zone_closed)
    assert eac == ([], None, {}, False)
    # the next change writes version 2
    assert term.verify(PinRef.PIN1, "000000") == 0x63C2
    assert json.loads(path.read_text())["version"] == 2
    assert card_image.load_state(path).pins == old._persistent.pins


def test_version_1_image_with_version_2_fields_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    personalised_card(path=path)
    doc = json.loads(path.read_text())
    doc["version"] = 1
    path.write_text(json.dumps(doc))
    with pytest.raises(CardImageError, match="version-2 fields"):
        VirtualCard.load(path)


@pytest.mark.parametrize(("field", "value"), [
    ("trust_points", [{"chr": "TWCVCA00001"}]),
    ("trust_points", "none"),
    ("cert_keys", {"01": "AAAA"}),  # the AA key is not a certificate-zone key
    ("cert_keys", {"10": 5}),
    ("cert_zone_closed", "yes"),
    ("card_date", "2026-01-01"),
])
def test_bad_eac_content_is_refused(tmp_path: Path, field: str, value: object) -> None:
    path = tmp_path / "bad.json"
    personalised_card(path=path)
    doc = json.loads(path.read_text())
    content = doc["content"] | {field: value}
    doc["content"], doc["sha256"] = content, card_image.digest(content)
    path.write_text(json.dumps(doc))
    with pytest.raises(CardImageError):
        VirtualCard.load(path)


def test_three_trust_points_are_refused() -> None:
    key = TrustedKey("TWCVCA00001", b"\x04", Role.CVCA, NeidRight.NONE, dt.date(2026, 1, 1),
                     dt.date(2027, 1, 1))
    content = PersistentState(chip_serial=b"1234", trust_points=[key, key]).to_json()
    content["trust_points"] = [key.to_json()] * 3
    with pytest.raises(ValueError, match="trust points"):
        PersistentState.from_json(content)
