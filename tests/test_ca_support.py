"""Shared helpers of the citizen-CA tests (no tests here): a settable clock, cached subscriber keys,
CSR builders and a CA directory factory."""

from __future__ import annotations

import datetime
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from neweid.pki.ca.directory import CaDirectory
from neweid.pki.ca.profiles import CaUrls, CertificateUsage, Subscriber
from neweid.pki.ca.validity import CardValidity
from neweid.pki.keystore import FileKeyStore

NOW = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
CARD = CardValidity(datetime.date(2026, 11, 2), datetime.date(2036, 11, 2))
ID_NUMBER = "A123456789"
CARD_SERIAL = "NE0000123456"
SUBSCRIBER = Subscriber.from_id_number("王小明", ID_NUMBER, CARD_SERIAL)
PASSPHRASE = b"ca tests only"
OPENSSL = shutil.which("openssl")


@dataclass
class Clock:
    now: datetime.datetime = NOW

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, **delta: float) -> datetime.datetime:
        self.now = self.now + datetime.timedelta(**delta)
        return self.now


@functools.cache
def rsa_key(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


@functools.cache
def ec_key(index: int = 0, curve_name: str = "secp521r1") -> ec.EllipticCurvePrivateKey:
    curve = {"secp521r1": ec.SECP521R1(), "secp256r1": ec.SECP256R1()}[curve_name]
    return ec.generate_private_key(curve)


def csr_for(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, *, pem: bool = True) -> bytes:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "on-card key")]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM if pem else serialization.Encoding.DER)


def key_for(
    usage: CertificateUsage, algorithm: str, index: int = 0
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    slot = index * 2 + (0 if usage is CertificateUsage.SIGN else 1)
    return rsa_key(slot) if algorithm == "rsa" else ec_key(slot)


def make_ca(directory: Path, clock: Clock, base_url: str = "http://127.0.0.1:8080/") -> CaDirectory:
    store = FileKeyStore(directory / "keys", PASSPHRASE)
    return CaDirectory.init(directory, store, now=clock(), urls=CaUrls(base_url), clock=clock)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
