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
from neweid.formats.chat import NeidRight
from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import KeyRef
from neweid.pki.eac import EacPki, load_cvca_certificates
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, card_content
from neweid.production.dev_issuer import DevelopmentIssuer
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
        eac = EacPki.open_or_create(Path(tmp) / "pki", now=now, passphrase=b"bench")
        eac.issue_dv("MOI", NeidRight.READ_SPOUSE | NeidRight.READ_FATHER | NeidRight.READ_MOTHER)
        terminal = eac.issue_terminal("MOI", NeidRight.READ_SPOUSE | NeidRight.READ_FATHER
                                      | NeidRight.READ_MOTHER, name="BENCH")
        issuer = DevelopmentIssuer.open_or_create(Path(tmp) / "pki", now=now, passphrase=b"bench")
        cvcas = load_cvca_certificates(Path(tmp) / "pki")
        rng = random.Random(1)
        citizen = generate_citizen(rng, today=now.date())
        secrets = CardSecrets.generate(rng, citizen.card_serial)
        content = card_content(citizen, make_photo(rng, citizen))
        cards: list[VirtualCard] = []

        def personalise_one() -> None:
            card = VirtualCard.create(None)
            personalise(InProcessTransport(card, Interface.CONTACT), content, secrets, pki.document_signer,
                        now=now, cvca_certificates=cvcas, certificate_issuer=issuer)
            cards.append(card)

        perso_ms = median_ms(personalise_one, 10)
        card = cards[0]
        anchors = [pki.csca_certificate]

        def read_public() -> None:
            with NewEidReader(InProcessTransport(card, Interface.CONTACTLESS), anchors) as reader:
                reader.open_with_can(secrets.can)
                reader.read_public()
                reader.active_authentication()

        def read_encrypted() -> None:
            with NewEidReader(InProcessTransport(card, Interface.CONTACT), anchors) as reader:
                reader.open_with_can(secrets.can)
                reader.authenticate_terminal(terminal)
                reader.read_encrypted(secrets.pin1)

        def generate_certificate_keys() -> None:
            blank = VirtualCard.create(None)
            blank.power_on(Interface.CONTACT)
            for ref in (KeyRef.RSA_SIGN, KeyRef.RSA_ENCRYPT, KeyRef.EC_SIGN, KeyRef.EC_KEY_AGREEMENT):
                response = blank.transmit(bytes([0x00, 0x46, 0x00, ref, 0x00, 0x00, 0x00]))
                assert response[-2:] == b"\x90\x00", response[-2:].hex()
            blank.power_off()

        read_public()  # warm-up
        read_encrypted()
        results = {
            "personalise one card (AA, CA and 4 certificate keys made on the chip, 4 CSRs, 4 certificates)":
                perso_ms,
            "PACE + read public zone + PA + AA (in-process)": median_ms(read_public, args.rounds),
            "full EAC read of the encrypted zone: PACE + TA + CA (EF.CardSecurity PA) + PIN1 + 3 DGs + PA":
                median_ms(read_encrypted, args.rounds),
            "on-card generation of the 4 certificate-zone key pairs (2 x RSA-2048, 2 x P-521)":
                median_ms(generate_certificate_keys, max(5, args.rounds // 3)),
            "P-521 scalar multiplication of an arbitrary point (pure Python, PACE mapping)": median_ms(
                lambda: point_mul(NIST_P521, random.getrandbits(520) | 1, _OTHER_POINT), args.rounds * 3),
        }
    for name, (med, lo, hi) in results.items():
        print(f"{name}: median {med:.1f} ms (min {lo:.1f}, max {hi:.1f})")


if __name__ == "__main__":
    main()
