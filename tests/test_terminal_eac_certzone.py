"""The certificate zone from the host (CARD-5, CARD-6): certificates, public keys, PIN2-protected
signing, deciphering and key agreement with on-card keys; the closed zone of an opted-out citizen."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import PinRef
from neweid.pki.testpki import TestPki
from neweid.terminal import (
    AccessDenied,
    InProcessTransport,
    InterfaceNotAllowed,
    InvalidInputError,
    ReaderError,
)
from neweid.terminal.certzone import CertificateKey, CertificateZone, decode_public_key_template, digest_info
from neweid.terminal.errors import PinBlocked, PinIncorrect, ZoneClosed
from neweid.terminal.reader import NewEidReader
from tests.test_terminal_eac_support import NOW, EacCard, SmallIssuer, eac_card


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki) -> EacCard:
    return eac_card(tmp_path_factory.mktemp("certzone") / "card", test_pki, seed=21, issuer=SmallIssuer())


def _open(card: EacCard, test_pki: TestPki, interface: Interface = Interface.CONTACT) -> NewEidReader:
    reader = NewEidReader(InProcessTransport(card.load(), interface), [test_pki.csca_certificate],
                          now=lambda: NOW)
    reader.open_with_can(card.made.secrets.can)
    return reader


@pytest.fixture
def zone(card: EacCard, test_pki: TestPki) -> Iterator[CertificateZone]:
    with _open(card, test_pki) as reader:
        yield reader.certificate_zone()


def _spki(key: object) -> bytes:
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_six_certificates_are_readable_without_pin(zone: CertificateZone, card: EacCard) -> None:
    certificates = zone.certificates()
    assert sorted(certificates) == [1, 2, 3, 4, 5, 6]
    written = card.made.certificate_zone
    assert written is not None
    for number, cert in certificates.items():
        assert cert.public_bytes(serialization.Encoding.DER) == written.certificates[number]
    assert certificates[2].issuer == certificates[1].subject
    assert all(certificates[n].issuer == certificates[2].subject for n in (3, 4, 5, 6))


@pytest.mark.parametrize("key", list(CertificateKey))
def test_public_key_from_the_chip_matches_its_certificate(zone: CertificateZone, key: CertificateKey) -> None:
    on_card = zone.public_key(key)
    assert _spki(on_card) == _spki(zone.certificate_for(key).public_key())
    assert isinstance(on_card, rsa.RSAPublicKey) == key.is_rsa
    if isinstance(on_card, rsa.RSAPublicKey):
        assert on_card.key_size == 2048
    else:
        assert on_card.curve.name == "secp521r1"


def test_signing_needs_pin2(zone: CertificateZone) -> None:
    with pytest.raises(AccessDenied):
        zone.sign(b"document", CertificateKey.RSA_SIGN)


@pytest.mark.parametrize("key", [CertificateKey.RSA_SIGN, CertificateKey.EC_SIGN])
def test_signature_verifies_with_the_certificate(zone: CertificateZone, card: EacCard,
                                                 key: CertificateKey) -> None:
    zone.verify_pin2(card.made.secrets.pin2)
    document = "契約書 contract".encode()
    signature = zone.sign(document, key)
    public = zone.certificate_for(key).public_key()
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, document, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, document, ec.ECDSA(hashes.SHA512()))
        with pytest.raises(InvalidSignature):
            public.verify(signature, document + b"!", ec.ECDSA(hashes.SHA512()))


def test_rsa_signature_with_sha512(zone: CertificateZone, card: EacCard) -> None:
    zone.verify_pin2(card.made.secrets.pin2)
    signature = zone.sign(b"x", CertificateKey.RSA_SIGN, hashes.SHA512())
    public = zone.certificate_for(CertificateKey.RSA_SIGN).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"x", padding.PKCS1v15(), hashes.SHA512())


def test_encryption_keys_do_not_sign(zone: CertificateZone, card: EacCard) -> None:
    zone.verify_pin2(card.made.secrets.pin2)
    for key in (CertificateKey.RSA_ENCRYPT, CertificateKey.EC_KEY_AGREEMENT):
        with pytest.raises(InvalidInputError, match="not a signing key"):
            zone.sign(b"x", key)
    with pytest.raises(InvalidInputError):
        zone.sign_digest(b"short", CertificateKey.EC_SIGN)


def test_decipher(zone: CertificateZone, card: EacCard) -> None:
    public = zone.certificate_for(CertificateKey.RSA_ENCRYPT).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    ciphertext = public.encrypt(b"session key 0123456789abcdef", padding.PKCS1v15())
    with pytest.raises(AccessDenied):
        zone.decipher(ciphertext)
    zone.verify_pin2(card.made.secrets.pin2)
    assert zone.decipher(ciphertext) == b"session key 0123456789abcdef"


def test_ecdh_matches_the_peer_side(zone: CertificateZone, card: EacCard) -> None:
    peer = ec.generate_private_key(ec.SECP521R1())
    zone.verify_pin2(card.made.secrets.pin2)
    shared = zone.ecdh(peer.public_key())
    card_key = zone.certificate_for(CertificateKey.EC_KEY_AGREEMENT).public_key()
    assert isinstance(card_key, ec.EllipticCurvePublicKey)
    assert shared == peer.exchange(ec.ECDH(), card_key)
    with pytest.raises(InvalidInputError):
        zone.ecdh(b"not a key")  # type: ignore[arg-type]


def test_pin2_blocks_after_three_wrong_tries(card: EacCard, test_pki: TestPki, tmp_path: Path) -> None:
    copy = tmp_path / "copy.card"
    shutil.copy(card.path, copy)
    made = EacCard(copy, card.made)
    wrong = "00000000" if card.made.secrets.pin2 != "00000000" else "11111111"
    with _open(made, test_pki) as reader:
        zone = reader.certificate_zone()
        for left in (2, 1):
            with pytest.raises(PinIncorrect) as info:
                zone.verify_pin2(wrong)
            assert info.value.tries_left == left
        with pytest.raises(PinBlocked):
            zone.verify_pin2(wrong)
        with pytest.raises(PinBlocked):
            zone.verify_pin2(card.made.secrets.pin2)
        assert reader.pin_status(PinRef.PIN2).blocked
        with pytest.raises(AccessDenied):
            zone.sign(b"x", CertificateKey.EC_SIGN)


def test_contactless_is_refused(card: EacCard, test_pki: TestPki) -> None:
    with _open(card, test_pki, Interface.CONTACTLESS) as reader, pytest.raises(InterfaceNotAllowed):
        reader.certificate_zone().certificates()


def test_opted_out_zone_is_closed(test_pki: TestPki, tmp_path: Path) -> None:
    made = eac_card(tmp_path / "optout.card", test_pki, seed=22)
    assert made.made.certificate_zone is None
    with _open(made, test_pki) as reader:
        zone = reader.certificate_zone()
        with pytest.raises(ZoneClosed):
            zone.certificates()
        with pytest.raises(ZoneClosed):
            zone.public_key(CertificateKey.EC_SIGN)


def test_digest_info_is_byte_exact() -> None:
    """RFC 8017 §9.2 note 1: the DER prefixes of DigestInfo for SHA-256 and SHA-512."""
    digest = bytes(range(32))
    assert digest_info(digest, hashes.SHA256()) == bytes.fromhex(
        "3031300d060960864801650304020105000420") + digest
    assert digest_info(bytes(64), hashes.SHA512()).startswith(bytes.fromhex(
        "3051300d060960864801650304020305000440"))
    with pytest.raises(InvalidInputError):
        digest_info(bytes(31), hashes.SHA256())
    with pytest.raises(InvalidInputError):
        digest_info(bytes(20), hashes.SHA1())


def test_public_key_template_decoding() -> None:
    key = ec.generate_private_key(ec.SECP521R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    from neweid.formats.tlv import encode_tlv

    assert _spki(decode_public_key_template(encode_tlv(0x7F49, encode_tlv(0x86, point)))) == _spki(key)
    for bad in (b"", b"\x7f\x49\x00", encode_tlv(0x7F49, encode_tlv(0x86, b"\x04" + bytes(10))), b"\xff"):
        with pytest.raises(ReaderError):
            decode_public_key_template(bad)


def test_certificate_numbers_are_checked(zone: CertificateZone) -> None:
    with pytest.raises(InvalidInputError):
        zone.read_certificate(7)


def test_decipher_and_sign_with_short_apdus_only(card: EacCard, test_pki: TestPki) -> None:
    with NewEidReader(InProcessTransport(card.load(), Interface.CONTACT), [test_pki.csca_certificate],
                      now=lambda: NOW, extended_length=False) as reader:
        reader.open_with_can(card.made.secrets.can)
        zone = reader.certificate_zone()
        zone.verify_pin2(card.made.secrets.pin2)
        public = zone.public_key(CertificateKey.RSA_ENCRYPT)
        assert isinstance(public, rsa.RSAPublicKey)
        assert zone.decipher(public.encrypt(b"k" * 32, padding.PKCS1v15())) == b"k" * 32
        signature = zone.sign(b"doc", CertificateKey.RSA_SIGN)
        signer = zone.public_key(CertificateKey.RSA_SIGN)
        assert isinstance(signer, rsa.RSAPublicKey)
        signer.verify(signature, b"doc", padding.PKCS1v15(), hashes.SHA256())
