"""The citizen-certificate zone on the chip (CARD-5, CARD-6; docs/eac-profile.md): on-card key pairs,
signing, deciphering and ECDH behind PIN2 on the contact interface, usage separation, certificates
written once, and the closed zone — all through raw APDUs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from neweid.card import Interface, VirtualCard
from neweid.card.image import load_state
from neweid.formats.iso7816 import KeyRef, PinRef, StatusWord
from neweid.formats.tlv import encode_tlv, parse_tlvs
from tests.test_card_eac_support import (
    CvPki,
    EacCard,
    EacTerminal,
    eac_session,
    ec_key,
    ga,
    generate,
    personalise_eac,
    public_do_value,
)
from tests.test_card_support import CERTIFICATE, OK, PIN2, SAMPLE_FILES, Terminal

ALL_KEYS = (KeyRef.RSA_SIGN, KeyRef.RSA_ENCRYPT, KeyRef.EC_SIGN, KeyRef.EC_KEY_AGREEMENT)
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
DOCUMENT = b"I, the citizen, agree."


@pytest.fixture(scope="module")
def pki() -> CvPki:
    return CvPki.create()


@pytest.fixture(scope="module")
def zone_card(pki: CvPki, tmp_path_factory: pytest.TempPathFactory) -> EacCard:
    return personalise_eac(tmp_path_factory.mktemp("cz") / "card.json", pki, cert_keys=ALL_KEYS)


@pytest.fixture(scope="module")
def closed_card(pki: CvPki, tmp_path_factory: pytest.TempPathFactory) -> EacCard:
    return personalise_eac(tmp_path_factory.mktemp("closed") / "card.json", pki)


@pytest.fixture
def card(zone_card: EacCard, tmp_path: Path) -> VirtualCard:
    return zone_card.load(tmp_path)


def rsa_public(do: bytes) -> rsa.RSAPublicKey:
    n, e = public_do_value(do, 0x81), public_do_value(do, 0x82)
    return rsa.RSAPublicNumbers(int.from_bytes(e, "big"), int.from_bytes(n, "big")).public_key()


def ec_public(do: bytes) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP521R1(), public_do_value(do, 0x86))


def citizen(card: VirtualCard, *, pin2: bool = True, interface: Interface = Interface.CONTACT) -> EacTerminal:
    term = eac_session(card, interface)
    term.pace_can()
    if pin2:
        assert term.verify(PinRef.PIN2, PIN2) == OK
    return term


def mse(term: Terminal, p2: int, ref: int, *, secure: bool = True) -> int:
    send = term.secure if secure else term.plain
    return send(0x00, 0x22, 0x41, p2, encode_tlv(0x84, bytes([ref])))[1]


def sign(term: Terminal, ref: int, data: bytes, *, secure: bool = True) -> tuple[bytes, int]:
    sw = mse(term, 0xB6, ref, secure=secure)
    if sw != OK:
        return b"", sw
    send = term.secure if secure else term.plain
    return send(0x00, 0x2A, 0x9E, 0x9A, data, 256)


def decipher(term: Terminal, ref: int, cryptogram: bytes) -> tuple[bytes, int]:
    sw = mse(term, 0xB8, ref)
    if sw != OK:
        return b"", sw
    return term.secure(0x00, 0x2A, 0x80, 0x86, b"\x00" + cryptogram, 256)


def agree(term: Terminal, ref: int, peer: bytes) -> tuple[bytes, int]:
    sw = mse(term, 0xA4, ref)
    if sw != OK:
        return b"", sw
    return term.secure(0x00, 0x86, 0x00, 0x00, ga(encode_tlv(0x85, peer)), 256)


def verify_ec_plain(public: ec.EllipticCurvePublicKey, digest: bytes, signature: bytes) -> None:
    half = len(signature) // 2
    r, s = int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    der = encode_dss_signature(r, s)
    public.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA512())))


# --- key generation ---------------------------------------------------------------------------------


def test_generated_keys_have_the_profile_shapes(zone_card: EacCard) -> None:
    for ref in (KeyRef.RSA_SIGN, KeyRef.RSA_ENCRYPT):
        key = rsa_public(zone_card.cert_public[ref])
        assert (key.key_size, key.public_numbers().e) == (2048, 65537)
    for ref in (KeyRef.EC_SIGN, KeyRef.EC_KEY_AGREEMENT):
        assert len(public_do_value(zone_card.cert_public[ref], 0x86)) == 133
    assert len({zone_card.cert_public[ref] for ref in ALL_KEYS}) == 4


def test_keys_are_generated_once(tmp_path: Path, pki: CvPki) -> None:
    made = personalise_eac(tmp_path / "c.json", pki, cert_keys=(KeyRef.EC_SIGN,), activate=False)
    card = VirtualCard.load(made.image)
    card.power_on(Interface.CONTACT)
    term = Terminal(card)
    assert generate(term, KeyRef.EC_SIGN)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert generate(term, KeyRef.CHIP_AUTHENTICATION)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert generate(term, 0x14)[1] == StatusWord.REFERENCE_DATA_NOT_FOUND
    # the key is unchanged
    data, sw = term.plain(0x00, 0x46, 0x81, KeyRef.EC_SIGN, b"", 65536, extended=True)
    assert (data, sw) == (made.cert_public[KeyRef.EC_SIGN], OK)


def test_generate_refused_after_activation(card: VirtualCard) -> None:
    term = citizen(card)
    assert term.secure(0x00, 0x46, 0x00, KeyRef.EC_SIGN, b"", 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED


def test_read_public_key_gives_only_the_public_key(card: VirtualCard, zone_card: EacCard) -> None:
    term = citizen(card, pin2=False)
    for ref in ALL_KEYS:
        data, sw = term.secure(0x00, 0x46, 0x81, ref, b"", 65536)
        assert (data, sw) == (zone_card.cert_public[ref], OK)
        (outer,) = parse_tlvs(data)
        assert {item.tag for item in outer.children()} <= {0x81, 0x82, 0x86}
    data, sw = term.secure(0x00, 0x46, 0x81, KeyRef.CHIP_AUTHENTICATION, b"", 256)
    assert (public_do_value(data, 0x86), sw) == (zone_card.ca_public, OK)


def test_private_keys_never_leave_the_card(card: VirtualCard) -> None:
    assert card.path is not None
    state = load_state(card.path)
    secrets = []
    for ref in ALL_KEYS:
        key = serialization.load_der_private_key(state.cert_keys[ref], None)
        if isinstance(key, rsa.RSAPrivateKey):
            secrets.append(key.private_numbers().d.to_bytes(256, "big")[:32])
        else:
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            secrets.append(key.private_numbers().private_value.to_bytes(66, "big")[:32])
    term = citizen(card)
    answers = {(p1, ref): term.secure(0x00, 0x46, p1, ref, b"", 65536)
               for ref in ALL_KEYS for p1 in (0x81, 0x80, 0x82)}
    assert {sw for (p1, _), (_, sw) in answers.items() if p1 == 0x81} == {OK}
    assert {sw for (p1, _), (_, sw) in answers.items() if p1 != 0x81} == {StatusWord.CONDITIONS_NOT_SATISFIED}
    assert not any(secret in data for secret in secrets for data, _ in answers.values())


def test_read_public_key_of_a_missing_key_is_6a88(closed_card: EacCard, tmp_path: Path) -> None:
    card = closed_card.load(tmp_path)
    term = citizen(card, pin2=False)
    assert term.secure(0x00, 0x46, 0x81, KeyRef.RSA_SIGN, b"", 256)[1] == StatusWord.REFERENCE_DATA_NOT_FOUND


def test_read_public_key_contactless_is_6985(card: VirtualCard) -> None:
    term = citizen(card, pin2=False, interface=Interface.CONTACTLESS)
    assert term.secure(0x00, 0x46, 0x81, KeyRef.RSA_SIGN, b"", 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED


# --- operations behind PIN2 ---------------------------------------------------------------------------


def test_rsa_signature(card: VirtualCard, zone_card: EacCard) -> None:
    digest = hashlib.sha256(DOCUMENT).digest()
    signature, sw = sign(citizen(card), KeyRef.RSA_SIGN, SHA256_DIGEST_INFO + digest)
    assert sw == OK and len(signature) == 256
    rsa_public(zone_card.cert_public[KeyRef.RSA_SIGN]).verify(signature, DOCUMENT, padding.PKCS1v15(),
                                                             hashes.SHA256())


def test_ec_signature(card: VirtualCard, zone_card: EacCard) -> None:
    digest = hashlib.sha512(DOCUMENT).digest()
    signature, sw = sign(citizen(card), KeyRef.EC_SIGN, digest)
    assert sw == OK and len(signature) == 132
    verify_ec_plain(ec_public(zone_card.cert_public[KeyRef.EC_SIGN]), digest, signature)


def test_signature_input_is_checked(card: VirtualCard) -> None:
    term = citizen(card)
    assert sign(term, KeyRef.RSA_SIGN, hashlib.sha256(DOCUMENT).digest())[1] == StatusWord.WRONG_DATA
    assert sign(term, KeyRef.RSA_SIGN, SHA256_DIGEST_INFO + bytes(31))[1] == StatusWord.WRONG_DATA
    assert sign(term, KeyRef.EC_SIGN, bytes(20))[1] == StatusWord.WRONG_DATA


def test_decipher(card: VirtualCard, zone_card: EacCard) -> None:
    public = rsa_public(zone_card.cert_public[KeyRef.RSA_ENCRYPT])
    cryptogram = public.encrypt(b"session key 1234", padding.PKCS1v15())
    term = citizen(card)
    assert decipher(term, KeyRef.RSA_ENCRYPT, cryptogram) == (b"session key 1234", OK)
    assert decipher(term, KeyRef.RSA_ENCRYPT, cryptogram[:-1])[1] == StatusWord.WRONG_DATA
    assert decipher(term, KeyRef.RSA_ENCRYPT, b"\xff" * 256)[1] == StatusWord.WRONG_DATA  # ≥ modulus
    sw = mse(term, 0xB8, KeyRef.RSA_ENCRYPT)
    assert sw == OK
    assert term.secure(0x00, 0x2A, 0x80, 0x86, b"\x01" + cryptogram, 256)[1] == StatusWord.WRONG_DATA


def test_ecdh(card: VirtualCard, zone_card: EacCard) -> None:
    peer = ec_key(404)
    peer_point = peer.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint)
    data, sw = agree(citizen(card), KeyRef.EC_KEY_AGREEMENT, peer_point)
    assert sw == OK
    (outer,) = parse_tlvs(data)
    (shared,) = outer.children()
    assert shared.tag == 0x82
    assert shared.value == peer.exchange(ec.ECDH(), ec_public(zone_card.cert_public[KeyRef.EC_KEY_AGREEMENT]))


def test_ecdh_with_an_invalid_point_is_6a80(card: VirtualCard) -> None:
    bad = b"\x04" + bytes(131) + b"\x01"
    assert agree(citizen(card), KeyRef.EC_KEY_AGREEMENT, bad)[1] == StatusWord.WRONG_DATA


def test_operations_need_pin2(card: VirtualCard, zone_card: EacCard) -> None:
    term = citizen(card, pin2=False)
    digest = hashlib.sha512(DOCUMENT).digest()
    assert sign(term, KeyRef.EC_SIGN, digest)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    cryptogram = rsa_public(zone_card.cert_public[KeyRef.RSA_ENCRYPT]).encrypt(b"k", padding.PKCS1v15())
    assert decipher(term, KeyRef.RSA_ENCRYPT, cryptogram)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    point = zone_card.cert_public[KeyRef.EC_SIGN][-133:]
    assert agree(term, KeyRef.EC_KEY_AGREEMENT, point)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.verify(PinRef.PIN2, PIN2) == OK
    assert sign(term, KeyRef.EC_SIGN, digest)[1] == OK


def test_pin2_is_lost_with_the_session(card: VirtualCard) -> None:
    citizen(card)
    term = citizen(card, pin2=False)
    assert sign(term, KeyRef.EC_SIGN, bytes(64))[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_blocked_pin2_blocks_signing(card: VirtualCard) -> None:
    term = citizen(card, pin2=False)
    for tries_left in (2, 1, 0):
        assert term.verify(PinRef.PIN2, "99999999") == 0x63C0 | tries_left
    assert term.verify(PinRef.PIN2, PIN2) == StatusWord.AUTHENTICATION_METHOD_BLOCKED
    assert sign(term, KeyRef.EC_SIGN, bytes(64))[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_operations_need_secure_messaging(card: VirtualCard) -> None:
    card.power_on(Interface.CONTACT)
    term = Terminal(card)
    assert mse(term, 0xB6, KeyRef.EC_SIGN, secure=False) == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.plain(0x00, 0x2A, 0x9E, 0x9A, bytes(64), 256)[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED


def test_contactless_is_6985(card: VirtualCard) -> None:
    term = citizen(card, pin2=False, interface=Interface.CONTACTLESS)
    assert term.verify(PinRef.PIN2, PIN2) == StatusWord.CONDITIONS_NOT_SATISFIED
    assert mse(term, 0xB6, KeyRef.EC_SIGN) == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.secure(0x00, 0x2A, 0x9E, 0x9A, bytes(64), 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED
    assert term.secure(0x00, 0x2A, 0x80, 0x86, bytes(257), 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED


@pytest.mark.parametrize(("p2", "ref"), [
    (0xB6, KeyRef.RSA_ENCRYPT), (0xB6, KeyRef.EC_KEY_AGREEMENT),  # signing with an encryption key
    (0xB8, KeyRef.RSA_SIGN), (0xB8, KeyRef.EC_SIGN),  # deciphering with a signing key
    (0xA4, KeyRef.EC_SIGN), (0xA4, KeyRef.RSA_ENCRYPT),  # key agreement with another key
])
def test_usage_separation_is_6985(card: VirtualCard, zone_card: EacCard, p2: int, ref: KeyRef) -> None:
    term = citizen(card)
    assert mse(term, p2, ref) == OK
    if p2 == 0xB6:
        sw = term.secure(0x00, 0x2A, 0x9E, 0x9A, SHA256_DIGEST_INFO + bytes(32), 256)[1]
    elif p2 == 0xB8:
        sw = term.secure(0x00, 0x2A, 0x80, 0x86, bytes(257), 256)[1]
    else:
        point = public_do_value(zone_card.cert_public[KeyRef.EC_KEY_AGREEMENT], 0x86)
        sw = term.secure(0x00, 0x86, 0x00, 0x00, ga(encode_tlv(0x85, point)), 256)[1]
    assert sw == StatusWord.CONDITIONS_NOT_SATISFIED


def test_pso_without_mse_is_6985(card: VirtualCard) -> None:
    term = citizen(card)
    assert term.secure(0x00, 0x2A, 0x9E, 0x9A, bytes(64), 256)[1] == StatusWord.CONDITIONS_NOT_SATISFIED


def test_mse_with_unknown_key_is_6a88(card: VirtualCard) -> None:
    term = citizen(card)
    for ref in (KeyRef.ACTIVE_AUTHENTICATION, KeyRef.CHIP_AUTHENTICATION, 0x14):
        assert mse(term, 0xB6, ref) == StatusWord.REFERENCE_DATA_NOT_FOUND


# --- personalisation: CSRs and certificates --------------------------------------------------------------


def test_csr_signing_in_personalisation_without_pin2(tmp_path: Path, pki: CvPki) -> None:
    made = personalise_eac(tmp_path / "c.json", pki, cert_keys=(KeyRef.RSA_SIGN, KeyRef.EC_SIGN),
                           activate=False)
    card = VirtualCard.load(made.image)
    card.power_on(Interface.CONTACT)
    term = Terminal(card)
    csr_info = b"certification request info"
    signature, sw = sign(term, KeyRef.RSA_SIGN, SHA256_DIGEST_INFO + hashlib.sha256(csr_info).digest(),
                         secure=False)
    assert sw == OK
    rsa_public(made.cert_public[KeyRef.RSA_SIGN]).verify(signature, csr_info, padding.PKCS1v15(),
                                                         hashes.SHA256())
    digest = hashlib.sha512(csr_info).digest()
    signature, sw = sign(term, KeyRef.EC_SIGN, digest, secure=False)
    assert sw == OK
    verify_ec_plain(ec_public(made.cert_public[KeyRef.EC_SIGN]), digest, signature)


def test_certificates_are_read_only_after_activation(card: VirtualCard) -> None:
    term = citizen(card)
    assert term.select_ef(CERTIFICATE.fid, 0x0201, secure=True) == OK
    data, sw = term.secure(0x00, 0xB0, 0x00, 0x00, b"", 65536)
    assert (data, sw) == (SAMPLE_FILES[(CERTIFICATE.fid, 0x0201)], OK)
    assert term.secure(0x00, 0xD6, 0x00, 0x00, b"x")[1] == StatusWord.SECURITY_STATUS_NOT_SATISFIED
    assert term.select_ef(CERTIFICATE.fid, 0x0203, secure=True) == StatusWord.FILE_NOT_FOUND  # never written


def test_closed_zone(closed_card: EacCard, tmp_path: Path) -> None:
    card = closed_card.load(tmp_path)
    state = load_state(card.path) if card.path is not None else None
    assert state is not None and state.cert_zone_closed and not state.cert_keys
    assert not [key for key in state.files if key.startswith(f"{CERTIFICATE.fid:04X}/")]  # no data either
    term = citizen(card)
    assert term.secure(0x00, 0xA4, 0x04, 0x0C, CERTIFICATE.aid)[1] == StatusWord.FILE_NOT_FOUND
    assert term.secure(0x00, 0xA4, 0x08, 0x0C, CERTIFICATE.fid.to_bytes(2, "big"))[1] == 0x6A82
    assert term.select_ef(CERTIFICATE.fid, 0x0201, secure=True) == StatusWord.FILE_NOT_FOUND
    assert mse(term, 0xB6, KeyRef.RSA_SIGN) == StatusWord.REFERENCE_DATA_NOT_FOUND


def test_open_zone_is_selectable(card: VirtualCard) -> None:
    term = citizen(card, pin2=False)
    assert term.secure(0x00, 0xA4, 0x04, 0x0C, CERTIFICATE.aid)[1] == OK
