"""Helpers of the card's EAC and certificate-zone tests (no tests here): a small CV PKI built with
neweid.formats.cvc / neweid.crypto.cvc, EAC personalisation by APDUs, and a test-only terminal running
PACE (keeping ID_PICC), Terminal Authentication and Chip Authentication with raw APDUs."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from neweid.card import Interface, VirtualCard
from neweid.crypto.ca import CaTerminal
from neweid.crypto.cvc import cv_public_key_from_crypto, ecdsa_sign_plain, sign_cv_certificate
from neweid.crypto.ec import NIST_P521, curve_by_param_id, random_scalar
from neweid.crypto.pace import (
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    PaceTerminal,
    password_from_can,
    suite_by_oid,
)
from neweid.crypto.sm import SecureMessaging
from neweid.crypto.ta import SoftwareTerminalSigner, TerminalSigner, ta_sign
from neweid.formats.chat import ALL_RIGHTS, NeidRight, Role
from neweid.formats.cvc import (
    ID_TA_ECDSA_SHA_512,
    Chat,
    CvCertificate,
    CvCertificateBody,
    encode_cv_certificate,
)
from neweid.formats.iso7816 import KeyRef, PasswordRef, PutDataTag
from neweid.formats.tlv import encode_tlv, parse_tlvs
from tests.test_card_support import (
    CAN,
    ENCRYPTED,
    OK,
    PaceFailedError,
    Terminal,
    apdu,
    dummy_content,
    ga,
    ga_value,
    mse_set_at,
    personalise,
    seeded_rng,
    write_file,
)

TA_OID_CONTENT = bytes.fromhex("04007F00070202020205")  # id-TA-ECDSA-SHA-512
CA_OID_CONTENT = bytes.fromhex("04007F00070202030204")  # id-CA-ECDH-AES-CBC-CMAC-256
CARD_DATE = dt.date(2026, 1, 1)  # what test_card_support.personalise puts on the card
ENCRYPTED_FILES = {n: dummy_content(f"enc-dg{n}", 10 + n) for n in range(1, 7)}  # DG5/6 hold ≤ 16 bytes
ENCRYPTED_SOD = dummy_content("encrypted-sod", 300)


def ec_key(seed: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(random_scalar(NIST_P521, seeded_rng(seed)), ec.SECP521R1())


def make_cert(issuer: ec.EllipticCurvePrivateKey, car: str, holder: ec.EllipticCurvePublicKey, chr_: str,
              role: Role, rights: NeidRight, effective: dt.date, expiry: dt.date, *,
              with_domain: bool = False) -> CvCertificate:
    body = CvCertificateBody(0, car, cv_public_key_from_crypto(holder, ID_TA_ECDSA_SHA_512,
                                                               with_domain=with_domain),
                             chr_, Chat.neid(role, rights), effective, expiry)
    return sign_cv_certificate(body, lambda data: ecdsa_sign_plain(issuer, data, ID_TA_ECDSA_SHA_512))


def pso_data(cert: CvCertificate) -> bytes:
    """PSO:Verify Certificate data: the body and the signature data objects (no 7F21)."""
    return cert.body_der + encode_tlv(0x5F37, cert.signature)


@dataclass
class Party:
    """A CV certificate and its private key."""

    key: ec.EllipticCurvePrivateKey
    cert: CvCertificate

    @property
    def chr(self) -> str:
        return self.cert.body.chr


@dataclass
class CvPki:
    """CVCA → DV → terminals, issued at will."""

    cvca: Party
    seed: int = 100
    parties: list[Party] = field(default_factory=list)

    @classmethod
    def create(cls, chr_: str = "TWCVCA00001", seed: int = 50,
               effective: dt.date = dt.date(2025, 6, 1), expiry: dt.date = dt.date(2030, 6, 1)) -> CvPki:
        key = ec_key(seed)
        cert = make_cert(key, chr_, key.public_key(), chr_, Role.CVCA, ALL_RIGHTS, effective, expiry,
                         with_domain=True)
        return cls(Party(key, cert))

    def issue(self, issuer: Party, chr_: str, role: Role, rights: NeidRight, *,
              effective: dt.date = dt.date(2025, 12, 1), expiry: dt.date = dt.date(2027, 12, 1),
              key: ec.EllipticCurvePrivateKey | None = None, with_domain: bool = False) -> Party:
        self.seed += 1
        holder = key if key is not None else ec_key(self.seed)
        cert = make_cert(issuer.key, issuer.chr, holder.public_key(), chr_, role, rights, effective, expiry,
                         with_domain=with_domain)
        return Party(holder, cert)

    def dv(self, rights: NeidRight = ALL_RIGHTS, chr_: str = "TWDVMOI00001",
           role: Role = Role.DV_OFFICIAL, **kw: object) -> Party:
        return self.issue(self.cvca, chr_, role, rights, **kw)  # type: ignore[arg-type]

    def terminal(self, dv: Party, rights: NeidRight, chr_: str = "TWAGENCY100001", **kw: object) -> Party:
        return self.issue(dv, chr_, Role.TERMINAL, rights, **kw)  # type: ignore[arg-type]


@dataclass
class EacCard:
    """A personalised, activated EAC card image and what a terminal needs to know about it."""

    image: Path
    ca_public: bytes
    cert_public: dict[KeyRef, bytes]

    def load(self, tmp: Path, name: str = "card.json") -> VirtualCard:
        copy = tmp / name
        shutil.copyfile(self.image, copy)
        return VirtualCard.load(copy, rng=seeded_rng(11))


def put_data(term: Terminal, tag: int, value: bytes) -> int:
    return term.send(apdu(0x00, 0xDA, tag >> 8, tag & 0xFF, value, extended=len(value) > 255))[1]


def generate(term: Terminal, ref: int) -> tuple[bytes, int]:
    return term.plain(0x00, 0x46, 0x00, ref, b"", 65536, extended=True)


def public_do_value(data: bytes, tag: int) -> bytes:
    (outer,) = parse_tlvs(data)
    assert outer.tag == 0x7F49
    found = {item.tag: item.value for item in outer.children()}
    return found[tag]


def personalise_eac(path: Path, pki: CvPki | bytes, *, cert_keys: tuple[KeyRef, ...] = (),
                    seed: int = 3, activate: bool = True) -> EacCard:
    """The test_card_support personalisation plus the encrypted zone, a CVCA trust point, the CA key and
    the chosen certificate-zone keys; then ACTIVATE."""
    card = VirtualCard.create(path, rng=seeded_rng(seed))
    personalise(card, activate=False)
    card.power_on(Interface.CONTACT)
    term = Terminal(card)
    for number, content in ENCRYPTED_FILES.items():
        assert term.select_ef(ENCRYPTED.fid, 0x0100 | number) == OK
        assert term.plain(0x00, 0x0E, 0x00, 0x00)[1] == OK  # ERASE BINARY: drop the sample content
        write_file(term, ENCRYPTED.fid, 0x0100 | number, content)
    write_file(term, ENCRYPTED.fid, 0x011D, ENCRYPTED_SOD)
    cvca = pki if isinstance(pki, bytes) else encode_cv_certificate(pki.cvca.cert)
    assert put_data(term, PutDataTag.CVCA_TRUST_POINT, cvca) == OK
    data, sw = generate(term, KeyRef.CHIP_AUTHENTICATION)
    assert sw == OK
    ca_public = public_do_value(data, 0x86)
    cert_public: dict[KeyRef, bytes] = {}
    for ref in cert_keys:
        data, sw = generate(term, ref)
        assert sw == OK
        cert_public[ref] = data
    if activate:
        assert term.plain(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")[1] == OK
        assert term.plain(0x00, 0x44, 0x00, 0x00)[1] == OK
    card.power_off()
    return EacCard(path, ca_public, cert_public)


@dataclass
class EacTerminal(Terminal):
    """Terminal plus ID_PICC from PACE and the TA / CA steps as raw APDUs."""

    id_picc: bytes = b""
    ca: CaTerminal | None = None

    def pace_can(self, seed: int = 7) -> None:
        self.sm = None
        term = PaceTerminal(curve_by_param_id(18), suite_by_oid(ID_PACE_ECDH_GM_AES_CBC_CMAC_256),
                            password_from_can(CAN), seeded_rng(seed))
        _, sw = self.plain(0x00, 0x22, 0xC1, 0xA4, mse_set_at(PasswordRef.CAN))
        assert sw == OK
        data, sw = self.plain(0x10, 0x86, 0, 0, ga(b""), 256)
        assert sw == OK
        pk_map = term.start(ga_value(data, 0x80))
        data, sw = self.plain(0x10, 0x86, 0, 0, ga(encode_tlv(0x81, pk_map)), 256)
        assert sw == OK
        pk_eph = term.map(ga_value(data, 0x82))
        data, sw = self.plain(0x10, 0x86, 0, 0, ga(encode_tlv(0x83, pk_eph)), 256)
        assert sw == OK
        chip_eph = ga_value(data, 0x84)
        t_pcd = term.agree(chip_eph)
        data, sw = self.plain(0x00, 0x86, 0, 0, ga(encode_tlv(0x85, t_pcd)), 256)
        if sw != OK:
            raise PaceFailedError(sw)
        k_enc, k_mac = term.finish(ga_value(data, 0x86))
        self.sm = SecureMessaging(k_enc, k_mac)
        self.id_picc = chip_eph[1:1 + 66]

    # --- Terminal Authentication ---

    def set_dst(self, car: str) -> int:
        return self.secure(0x00, 0x22, 0x81, 0xB6, encode_tlv(0x83, car.encode()))[1]

    def verify_certificate(self, cert: CvCertificate) -> int:
        return self.secure(0x00, 0x2A, 0x00, 0xBE, pso_data(cert))[1]

    def import_chain(self, chain: list[CvCertificate]) -> int:
        """Set DST + PSO:Verify Certificate for each certificate; the first SW that is not 9000."""
        for cert in chain:
            sw = self.set_dst(cert.body.car)
            if sw != OK:
                return sw
            sw = self.verify_certificate(cert)
            if sw != OK:
                return sw
        return OK

    def set_at_ta(self, chr_: str, comp_eph: bytes, aux: bytes = b"") -> int:
        data = encode_tlv(0x80, TA_OID_CONTENT) + encode_tlv(0x83, chr_.encode()) + encode_tlv(0x91, comp_eph)
        return self.secure(0x00, 0x22, 0x81, 0xA4, data + aux)[1]

    def get_challenge(self) -> bytes:
        data, sw = self.secure(0x00, 0x84, 0x00, 0x00, b"", 8)
        assert sw == OK and len(data) == 8
        return data

    def external_authenticate(self, signature: bytes) -> int:
        return self.secure(0x00, 0x82, 0x00, 0x00, signature)[1]

    def terminal_authentication(self, chain: list[CvCertificate],
                                key: ec.EllipticCurvePrivateKey | TerminalSigner,
                                chip_ca_public: bytes, seed: int = 21, aux: bytes = b"") -> int:
        """TA with ``chain`` (DV, terminal); prepares CA with a fresh ephemeral key."""
        self.ca = CaTerminal(NIST_P521, chip_ca_public, rng=seeded_rng(seed))
        sw = self.import_chain(chain)
        if sw != OK:
            return sw
        terminal_chr = chain[-1].body.chr
        sw = self.set_at_ta(terminal_chr, self.ca.comp_ephemeral, aux)
        if sw != OK:
            return sw
        r_picc = self.get_challenge()
        signer = SoftwareTerminalSigner(key) if isinstance(key, ec.EllipticCurvePrivateKey) else key
        signature = ta_sign(signer, self.id_picc, r_picc, self.ca.comp_ephemeral, aux)
        return self.external_authenticate(signature)

    # --- Chip Authentication ---

    def set_at_ca(self) -> int:
        data = encode_tlv(0x80, CA_OID_CONTENT) + encode_tlv(0x84, b"\x01")
        return self.secure(0x00, 0x22, 0x41, 0xA4, data)[1]

    def chip_authentication(self, eph_public: bytes | None = None) -> int:
        assert self.ca is not None
        sw = self.set_at_ca()
        if sw != OK:
            return sw
        eph = self.ca.ephemeral_public if eph_public is None else eph_public
        data, sw = self.secure(0x00, 0x86, 0x00, 0x00, ga(encode_tlv(0x80, eph)), 256)
        if sw != OK:
            return sw
        (outer,) = parse_tlvs(data)
        items = {item.tag: item.value for item in outer.children()}
        k_enc, k_mac = self.ca.finish(items[0x81], items[0x82])
        self.sm = SecureMessaging(k_enc, k_mac)
        return OK

    def eac(self, terminal: Party, dv: Party, chip_ca_public: bytes) -> None:
        """PACE → TA → CA, all expected to succeed."""
        self.pace_can()
        assert self.terminal_authentication([dv.cert, terminal.cert], terminal.key, chip_ca_public) == OK
        assert self.chip_authentication() == OK

    def read_dg(self, df_fid: int, number: int) -> tuple[bytes, int]:
        sw = self.select_ef(df_fid, 0x0100 | number, secure=True)
        if sw != OK:
            return b"", sw
        return self.read_all(secure=True)


def eac_session(card: VirtualCard, interface: Interface = Interface.CONTACT) -> EacTerminal:
    card.power_on(interface)
    return EacTerminal(card)
