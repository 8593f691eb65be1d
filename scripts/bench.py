"""Benchmarks recorded in docs/BENCHMARKS.md (not timed tests). Run: ./dev.sh bench [--rounds N]

- read_public: power-up, PACE with the CAN (P-521, AES-256), read and Passive-Authenticate the public zone
  (incl. the photo), Active Authentication, in-process; median over N rounds.
- ec_mul: one P-521 scalar multiplication of neweid.crypto.ec (the PACE mapping's building block).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from neweid.card import VirtualCard
from neweid.crypto.ec import NIST_P521, point_mul
from neweid.formats.filemap import Interface
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, card_content
from neweid.production.personalise import personalise
from neweid.terminal.reader import NewEidReader
from neweid.terminal.transport import InProcessTransport

# not the generator: multiples of G take OpenSSL's fast path; PACE's mapped generator does not
_OTHER_POINT = point_mul(NIST_P521, 0x1234567, NIST_P521.g)
assert _OTHER_POINT is not None


def median_ms(action: Callable[[], object], rounds: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    now = datetime.datetime.now(datetime.UTC)
    print(f"machine: {cpu_model()}, {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        pki = TestPki.open_or_create(Path(tmp) / "pki", now=now, passphrase=b"bench")
        rng = random.Random(1)
        citizen = generate_citizen(rng, today=now.date())
        secrets = CardSecrets.generate(rng, citizen.card_serial)
        content = card_content(citizen, make_photo(rng, citizen))
        cards: list[VirtualCard] = []

        def personalise_one() -> None:
            card = VirtualCard.create(None)
            personalise(InProcessTransport(card, Interface.CONTACT), content, secrets, pki.document_signer,
                        now=now)
            cards.append(card)

        perso_ms = median_ms(personalise_one, 10)
        card = cards[0]
        anchors = [pki.csca_certificate]

        def read_public() -> None:
            with NewEidReader(InProcessTransport(card, Interface.CONTACTLESS), anchors) as reader:
                reader.open_with_can(secrets.can)
                reader.read_public()
                reader.active_authentication()

        read_public()  # warm-up
        results = {
            "personalise one card (incl. AA key generation, 3 zone signatures)": perso_ms,
            "PACE + read public zone + PA + AA (in-process)": median_ms(read_public, args.rounds),
            "P-521 scalar multiplication of an arbitrary point (pure Python, PACE mapping)": median_ms(
                lambda: point_mul(NIST_P521, random.getrandbits(520) | 1, _OTHER_POINT), args.rounds * 3),
        }
    for name, (med, lo, hi) in results.items():
        print(f"{name}: median {med:.1f} ms (min {lo:.1f}, max {hi:.1f})")


if __name__ == "__main__":
    main()
