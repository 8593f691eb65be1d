"""Shared fixtures: a test PKI and personalised virtual cards (built once per session)."""

from __future__ import annotations

import datetime
import os
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from neweid.card import VirtualCard
from neweid.formats.filemap import Interface
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, card_content
from neweid.production.personalise import PersonalisedCard, personalise
from neweid.terminal.transport import InProcessTransport

NOW = datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC)


def require_system_part(available: bool, what: str) -> None:
    """Skip a test that needs an optional system part, or fail it in CI (NEWEID_REQUIRE_SYSTEM_PARTS=1)."""
    if available:
        return
    if os.environ.get("NEWEID_REQUIRE_SYSTEM_PARTS") == "1":
        pytest.fail(f"{what} is required here (NEWEID_REQUIRE_SYSTEM_PARTS=1) but not available")
    pytest.skip(f"{what} not available (scripts/install-system-parts.sh)")


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.open_or_create(tmp_path_factory.mktemp("pki"), now=NOW, passphrase=b"test only")


@dataclass
class PersonalisedImage:
    path: Path
    card: PersonalisedCard


def personalise_image(path: Path, pki: TestPki, seed: int) -> PersonalisedImage:
    rng = random.Random(seed)
    citizen = generate_citizen(rng, today=NOW.date())
    card = VirtualCard.create(path)
    transport = InProcessTransport(card, Interface.CONTACT)
    made = personalise(transport, card_content(citizen, make_photo(rng, citizen)),
                       CardSecrets.generate(rng, citizen.card_serial), pki.document_signer, now=NOW)
    transport.close()
    return PersonalisedImage(path, made)


@pytest.fixture(scope="session")
def card_image(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki) -> PersonalisedImage:
    """A personalised card image; tests that change it must copy it first."""
    return personalise_image(tmp_path_factory.mktemp("card") / "citizen.card", test_pki, seed=42)
