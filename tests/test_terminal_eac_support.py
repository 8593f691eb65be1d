"""Test doubles for the EAC / certificate-zone / production tests (holds no tests).

- :class:`EacChain`: a CVCA, DV and terminal CV chain made here with neweid.formats.cvc and
  neweid.crypto.cvc (independent of neweid.pki.eac), with any rights, dates or wrong keys.
- :class:`SmallIssuer`: a citizen CA (root + intermediate) made with pyca/cryptography's x509, answering
  the production line's PKCS#10 requests (independent of neweid.pki.ca).
- :func:`eac_card`: a card personalised with the CA key, a CVCA trust point and (optionally) the
  certificate zone.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from neweid.card import VirtualCard
from neweid.crypto.cvc import cv_public_key_from_crypto, ecdsa_sign_plain, sign_cv_certificate
from neweid.formats.chat import ALL_RIGHTS, NeidRight, Role
from neweid.formats.cvc import (
    ID_TA_ECDSA_SHA_512,
    PROFILE_ID,
    Chat,
    CvCertificateBody,
    encode_cv_certificate,
)
from neweid.formats.filemap import Interface
from neweid.pki.testpki import TestPki
from neweid.population.photo import make_photo
from neweid.population.synthetic import generate_citizen
from neweid.production.card_data import CardSecrets, CertificateHolder, card_content
from neweid.production.certificates import CSR_SIGNING_KEY, verify_card_csr
from neweid.production.personalise import PersonalisedCard, personalise
from neweid.terminal.certzone import CertificateKey, PublicKey
from neweid.terminal.transport import InProcessTransport

NOW = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP521R1())


def cv_certificate(*, car: str, chr_: str, subject_key: ec.EllipticCurvePrivateKey,
                   issuer_key: ec.EllipticCurvePrivateKey, role: Role, rights: NeidRight,
                   effective: dt.date = TODAY - dt.timedelta(days=1),
                   expiry: dt.date = TODAY + dt.timedelta(days=90), with_domain: bool = False) -> bytes:
    body = CvCertificateBody(
        PROFILE_ID, car, cv_public_key_from_crypto(subject_key.public_key(), ID_TA_ECDSA_SHA_512,
                                                   with_domain=with_domain),
        chr_, Chat.neid(role, rights), effective, expiry)
    cert = sign_cv_certificate(body, lambda data: ecdsa_sign_plain(issuer_key, data, ID_TA_ECDSA_SHA_512))
    return encode_cv_certificate(cert)


@dataclass
class Terminal:
    """A terminal's chain and key: satisfies neweid.terminal.eac.TerminalAuthenticator."""

    chain: list[bytes]
    key: ec.EllipticCurvePrivateKey

    def sign(self, data: bytes) -> bytes:
        return ecdsa_sign_plain(self.key, data, ID_TA_ECDSA_SHA_512)


@dataclass
class EacChain:
    """A CVCA with one DV; :meth:`terminal` issues terminals under it."""

    cvca_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    dv_key: ec.EllipticCurvePrivateKey = field(default_factory=_key)
    cvca_chr: str = "TWCVCA00001"
    dv_chr: str = "TWDVMOI00001"
    dv_rights: NeidRight = ALL_RIGHTS
    cvca: bytes = b""
    dv: bytes = b""

    def __post_init__(self) -> None:
        self.cvca = cv_certificate(car=self.cvca_chr, chr_=self.cvca_chr, subject_key=self.cvca_key,
                                   issuer_key=self.cvca_key, role=Role.CVCA, rights=ALL_RIGHTS,
                                   expiry=TODAY + dt.timedelta(days=3 * 365), with_domain=True)
        self.dv = cv_certificate(car=self.cvca_chr, chr_=self.dv_chr, subject_key=self.dv_key,
                                 issuer_key=self.cvca_key, role=Role.DV_OFFICIAL, rights=self.dv_rights,
                                 expiry=TODAY + dt.timedelta(days=365))

    def terminal(self, rights: NeidRight, *, chr_: str = "TWAGENCY100001",
                 effective: dt.date = TODAY - dt.timedelta(days=1),
                 expiry: dt.date = TODAY + dt.timedelta(days=30),
                 signing_key: ec.EllipticCurvePrivateKey | None = None) -> Terminal:
        key = _key()
        cert = cv_certificate(car=self.dv_chr, chr_=chr_, subject_key=key, issuer_key=self.dv_key,
                              role=Role.TERMINAL, rights=rights, effective=effective, expiry=expiry)
        return Terminal([self.dv, cert], signing_key or key)


class SmallIssuer:
    """A citizen CA in memory: a P-521 root, an intermediate, and end-entity certificates for the
    production line's card-signed requests (the request signature is checked first)."""

    def __init__(self) -> None:
        self._root_key = _key()
        self._intermediate_key = _key()
        self.requests: list[tuple[CertificateKey, x509.CertificateSigningRequest]] = []
        self.public_keys: dict[CertificateKey, PublicKey] = {}
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Citizen Root")])
        inter_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Citizen CA")])
        self._root = self._build(root_name, root_name, self._root_key.public_key(), self._root_key, ca=True)
        self._intermediate = self._build(inter_name, root_name, self._intermediate_key.public_key(),
                                         self._root_key, ca=True)

    @staticmethod
    def _build(subject: x509.Name, issuer: x509.Name, public_key: object, signer: ec.EllipticCurvePrivateKey,
               *, ca: bool, usage: CertificateKey | None = None) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(public_key)  # type: ignore[arg-type]
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - dt.timedelta(days=1))
                   .not_valid_after(NOW + dt.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if usage is not None:
            signing = usage in (CertificateKey.RSA_SIGN, CertificateKey.EC_SIGN)
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=signing, content_commitment=signing,
                key_encipherment=usage is CertificateKey.RSA_ENCRYPT, data_encipherment=False,
                key_agreement=usage is CertificateKey.EC_KEY_AGREEMENT, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
        return builder.sign(signer, hashes.SHA512())

    @property
    def root_certificate(self) -> bytes:
        return self._root.public_bytes(serialization.Encoding.DER)

    @property
    def intermediate_certificate(self) -> bytes:
        return self._intermediate.public_bytes(serialization.Encoding.DER)

    def issue(self, csr_der: bytes, usage: CertificateKey, holder: CertificateHolder) -> bytes:
        signer = CSR_SIGNING_KEY[usage]
        signing_key = None if signer is usage else self.public_keys[signer]
        csr = verify_card_csr(csr_der, usage, signing_key)  # IssuerError if the card did not sign it
        self.requests.append((usage, csr))
        self.public_keys[usage] = csr.public_key()  # type: ignore[assignment]
        cert = self._build(csr.subject, self._intermediate.subject, csr.public_key(), self._intermediate_key,
                           ca=False, usage=usage)
        return cert.public_bytes(serialization.Encoding.DER)


@dataclass
class EacCard:
    path: Path
    made: PersonalisedCard

    def load(self) -> VirtualCard:
        return VirtualCard.load(self.path)


def eac_card(path: Path, pki: TestPki, *, seed: int, cvcas: Sequence[bytes] = (),
             issuer: SmallIssuer | None = None) -> EacCard:
    rng = random.Random(seed)
    citizen = generate_citizen(rng, today=TODAY)
    card = VirtualCard.create(path)
    transport = InProcessTransport(card, Interface.CONTACT)
    try:
        made = personalise(transport, card_content(citizen, make_photo(rng, citizen)),
                           CardSecrets.generate(rng, citizen.card_serial), pki.document_signer, now=NOW,
                           cvca_certificates=cvcas, certificate_issuer=issuer)
    finally:
        transport.close()
    return EacCard(path, made)
