"""The PKCS#11-style citizen-certificate library end to end against personalised virtual cards (API-3,
API-4, CARD-5, CARD-6): slots, token recognition, login with PIN2, the on-card keys and certificates."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from neweid.card import VirtualCard
from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import StatusWord
from neweid.pki.testpki import TestPki
from neweid.terminal.certzone import CertificateKey
from neweid.terminal.errors import TransportError
from neweid.terminal.p11 import CitizenCertificateLibrary, KeyPurpose, KeyType, Slot, TokenKind
from neweid.terminal.p11_cert import verify_cert
from neweid.terminal.p11_errors import (
    Ckr,
    NotNewEidError,
    P11Error,
    SignatureInvalidError,
    TokenNotPresentError,
)
from neweid.terminal.transport import InProcessTransport, Transport
from tests.test_terminal_eac_support import EacCard, EacChain, SmallIssuer, eac_card


@pytest.fixture(scope="module")
def citizen_card(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki) -> EacCard:
    """A card with the certificate zone filled (a citizen who kept the certificate)."""
    return eac_card(tmp_path_factory.mktemp("p11") / "citizen.card", test_pki, seed=11,
                    cvcas=[EacChain().cvca], issuer=SmallIssuer())


@pytest.fixture(scope="module")
def opted_out_card(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki) -> EacCard:
    """A card whose certificate zone is closed (MGMT-5)."""
    return eac_card(tmp_path_factory.mktemp("p11") / "optout.card", test_pki, seed=12)


class ForeignToken:
    """A smart card that is not a New eID: answers ``ef_dir`` to READ BINARY, 9000 to SELECT MF."""

    def __init__(self, ef_dir: bytes | None) -> None:
        self._ef_dir = ef_dir

    @property
    def interface(self) -> Interface:
        return Interface.CONTACT

    @property
    def atr(self) -> bytes:
        return bytes.fromhex("3B8F8001")

    def transmit(self, apdu: bytes) -> bytes:
        if self._ef_dir is None:
            return bytes.fromhex("6A82")
        if apdu[1] == 0xB0:
            return self._ef_dir + b"\x90\x00"
        return b"\x90\x00"

    def uid(self) -> bytes | None:
        return None

    def close(self) -> None:
        return


def _no_card() -> Transport:
    raise TransportError("no card in the reader")


def _library(card: EacCard, test_pki: TestPki, interface: Interface = Interface.CONTACT,
             path: Path | None = None) -> CitizenCertificateLibrary:
    virtual = VirtualCard.load(path or card.path)
    slot = Slot(0, "virtual reader", lambda: InProcessTransport(virtual, interface))
    return CitizenCertificateLibrary([slot], [test_pki.csca_certificate])


def _logged_in(card: EacCard, test_pki: TestPki, path: Path | None = None) -> CitizenCertificateLibrary:
    lib = _library(card, test_pki, path=path)
    lib.login_token(0, card.made.secrets.pin2, can=card.made.secrets.can)
    return lib


def test_slots_and_library_info(citizen_card: EacCard, test_pki: TestPki) -> None:
    virtual = VirtualCard.load(citizen_card.path)
    lib = CitizenCertificateLibrary([Slot(3, "reader B", _no_card),
                                     Slot(1, "reader A", lambda: InProcessTransport(virtual))])
    assert lib.get_slot_ids() == [1, 3]
    assert lib.get_slot_description(3) == "reader B"
    assert "citizen-certificate" in lib.library_info().name
    with pytest.raises(P11Error) as info:
        lib.get_slot_description(2)
    assert info.value.code is Ckr.SLOT_ID_INVALID
    lib.close_library()
    with pytest.raises(P11Error) as info:
        lib.get_slot_ids()
    assert info.value.code is Ckr.CRYPTOKI_NOT_INITIALIZED
    with pytest.raises(P11Error):
        CitizenCertificateLibrary([Slot(1, "a", _no_card), Slot(1, "b", _no_card)])


def test_tells_a_new_eid_from_other_tokens(citizen_card: EacCard) -> None:
    virtual = VirtualCard.load(citizen_card.path)
    moica_dir = bytes.fromhex("61084F06A00000004700")  # an application template of another issuer
    lib = CitizenCertificateLibrary([
        Slot(0, "New eID", lambda: InProcessTransport(virtual)),
        Slot(1, "old MOICA card", lambda: ForeignToken(moica_dir)),
        Slot(2, "no EF.DIR", lambda: ForeignToken(None)),
        Slot(3, "empty", _no_card)])
    assert [lib.token_kind(i) for i in range(4)] == [TokenKind.NEW_EID, TokenKind.OTHER, TokenKind.OTHER,
                                                     TokenKind.ABSENT]
    assert [lib.is_token_present(i) for i in range(4)] == [True, True, True, False]
    assert lib.get_token_label(0).startswith("New eID")
    for slot in (1, 2):
        with pytest.raises(NotNewEidError, match="not a New eID card") as info:
            lib.get_token_label(slot)
        assert info.value.code is Ckr.TOKEN_NOT_RECOGNIZED
    with pytest.raises(TokenNotPresentError):
        lib.login_token(3, "12345678", can="123456")


def test_login_keys_and_serial(citizen_card: EacCard, test_pki: TestPki) -> None:
    lib = _logged_in(citizen_card, test_pki)
    assert lib.get_key_num(0) == 4
    assert [lib.get_key_id(0, i) for i in range(4)] == list(CertificateKey)
    rsa_sign = lib.get_key(0, "rsa-sign")
    assert lib.get_key_type(rsa_sign) is KeyType.RSA_2048 and rsa_sign.purpose is KeyPurpose.SIGNATURE
    assert isinstance(rsa_sign.public_key, rsa.RSAPublicKey) and rsa_sign.public_key.key_size == 2048
    agreement = lib.get_encipherment_key(0, KeyType.EC_P521)
    assert agreement.purpose is KeyPurpose.KEY_AGREEMENT
    assert isinstance(agreement.public_key, ec.EllipticCurvePublicKey)
    assert agreement.public_key.curve.name == "secp521r1"
    assert lib.get_token_serial_number(0) == citizen_card.made.content.public.card_serial.serial
    with pytest.raises(P11Error) as info:
        lib.get_key_id(0, 4)
    assert info.value.code is Ckr.ARGUMENTS_BAD
    with pytest.raises(P11Error):
        lib.get_key(0, "aa-key")


@pytest.mark.parametrize("key_type", [KeyType.RSA_2048, KeyType.EC_P521])
def test_basic_sign_and_verify(citizen_card: EacCard, test_pki: TestPki, key_type: KeyType) -> None:
    lib = _logged_in(citizen_card, test_pki)
    key = lib.get_signature_key(0, key_type)
    document = "立約人 王小明 同意".encode()
    signature = lib.basic_sign(key, document)
    certificate = lib.get_signature_cert(0, key_type)
    CitizenCertificateLibrary.basic_verify(certificate, document, signature)
    CitizenCertificateLibrary.basic_verify(key, document, signature)
    with pytest.raises(SignatureInvalidError) as info:
        CitizenCertificateLibrary.basic_verify(certificate, document + b"!", signature)
    assert info.value.code is Ckr.SIGNATURE_INVALID
    sha384 = lib.basic_sign(key, document, hashes.SHA384())
    CitizenCertificateLibrary.basic_verify(certificate, document, sha384, hashes.SHA384())


def test_private_key_use_needs_login_and_the_right_purpose(citizen_card: EacCard, test_pki: TestPki) -> None:
    lib = _library(citizen_card, test_pki)
    with pytest.raises(P11Error) as info:
        lib.get_key_num(0)  # no session yet
    assert info.value.code is Ckr.USER_NOT_LOGGED_IN
    lib.open_session(0, can=citizen_card.made.secrets.can)
    key = lib.get_signature_key(0)
    with pytest.raises(P11Error) as info:
        lib.basic_sign(key, b"data")
    assert info.value.code is Ckr.USER_NOT_LOGGED_IN
    lib.login_token(0, citizen_card.made.secrets.pin2)
    with pytest.raises(P11Error) as info:
        lib.basic_sign(lib.get_encipherment_key(0), b"data")
    assert info.value.code is Ckr.KEY_FUNCTION_NOT_PERMITTED
    lib.logout_token(0)
    with pytest.raises(P11Error) as info:
        lib.basic_sign(key, b"data")
    assert info.value.code is Ckr.USER_NOT_LOGGED_IN


def test_encrypt_to_the_citizen_and_decrypt_on_the_card(citizen_card: EacCard, test_pki: TestPki) -> None:
    lib = _logged_in(citizen_card, test_pki)
    secret = b"session key for the tax office"
    ciphertext = CitizenCertificateLibrary.basic_asym_encrypt(lib.get_encipherment_cert(0), secret)
    assert lib.basic_asym_decrypt(lib.get_encipherment_key(0), ciphertext) == secret
    with pytest.raises(P11Error) as info:
        lib.basic_asym_decrypt(lib.get_encipherment_key(0), b"")
    assert info.value.code is Ckr.ARGUMENTS_BAD
    with pytest.raises(P11Error) as info:
        CitizenCertificateLibrary.basic_asym_encrypt(lib.get_signature_cert(0, KeyType.EC_P521), secret)
    assert info.value.code is Ckr.KEY_FUNCTION_NOT_PERMITTED


def test_ecdh_session_key_agreement(citizen_card: EacCard, test_pki: TestPki) -> None:
    lib = _logged_in(citizen_card, test_pki)
    certificate = lib.get_encipherment_cert(0, KeyType.EC_P521)
    point, sender_key = lib.gen_session_key_ecdh(certificate)
    assert len(point) == 133 and point[0] == 4 and len(sender_key) == 32
    handle = lib.get_encipherment_key(0, KeyType.EC_P521)
    assert lib.derive_session_key_ecdh(handle, point) == sender_key
    _, other = lib.gen_session_key_ecdh(certificate)
    assert other != sender_key  # a fresh ephemeral key every time
    with pytest.raises(P11Error) as info:
        lib.derive_session_key_ecdh(handle, b"\x04" + b"\x00" * 132)
    assert info.value.code is Ckr.ARGUMENTS_BAD
    with pytest.raises(P11Error) as info:
        lib.gen_session_key_ecdh(lib.get_encipherment_cert(0))  # RSA certificate
    assert info.value.code is Ckr.KEY_FUNCTION_NOT_PERMITTED


def test_certificates_on_the_card(citizen_card: EacCard, test_pki: TestPki) -> None:
    lib = _library(citizen_card, test_pki)
    lib.open_session(0, can=citizen_card.made.secrets.can)  # certificates need no PIN2
    assert lib.get_cert_num(0) == 6
    assert [lib.get_cert_id(0, i) for i in range(6)] == [1, 2, 3, 4, 5, 6]
    root, intermediate = lib.get_cert(0, 1), lib.get_cert(0, 2)
    verify_cert(root, root)
    verify_cert(intermediate, root)
    for key_type in KeyType:
        for cert in (lib.get_signature_cert(0, key_type), lib.get_encipherment_cert(0, key_type)):
            verify_cert(cert, intermediate)
    assert lib.get_signature_cert(0).public_key() == lib.get_signature_key(0).public_key
    with pytest.raises(P11Error) as info:
        lib.get_cert(0, 7)
    assert info.value.code is Ckr.ARGUMENTS_BAD
    with pytest.raises(P11Error):
        lib.get_cert_id(0, 6)


def test_opted_out_card_has_no_keys_or_certificates(opted_out_card: EacCard, test_pki: TestPki) -> None:
    lib = _library(opted_out_card, test_pki)
    assert lib.token_kind(0) is TokenKind.NEW_EID
    lib.open_session(0, can=opted_out_card.made.secrets.can)
    assert lib.get_key_num(0) == 0 and lib.get_cert_num(0) == 0
    with pytest.raises(P11Error) as info:
        lib.get_signature_key(0)
    assert info.value.code is Ckr.KEY_HANDLE_INVALID


def test_wrong_pin2_counts_down_and_locks(citizen_card: EacCard, test_pki: TestPki, tmp_path: Path) -> None:
    path = tmp_path / "copy.card"
    shutil.copy(citizen_card.path, path)
    lib = _library(citizen_card, test_pki, path=path)
    secrets = citizen_card.made.secrets
    wrong = "87654321" if secrets.pin2 != "87654321" else "12345678"
    with pytest.raises(P11Error, match="2 tries left") as info:
        lib.login_token(0, wrong, can=secrets.can)
    assert info.value.code is Ckr.PIN_INCORRECT
    with pytest.raises(P11Error, match="1 tries left"):
        lib.login_token(0, wrong)
    with pytest.raises(P11Error) as info:
        lib.login_token(0, wrong)
    assert info.value.code is Ckr.PIN_LOCKED
    with pytest.raises(P11Error) as info:
        lib.login_token(0, secrets.pin2)  # blocked even with the right PIN
    assert info.value.code is Ckr.PIN_LOCKED


def test_wrong_can_and_contactless(citizen_card: EacCard, test_pki: TestPki) -> None:
    lib = _library(citizen_card, test_pki)
    can = citizen_card.made.secrets.can
    with pytest.raises(P11Error) as info:
        lib.login_token(0, citizen_card.made.secrets.pin2, can=f"{(int(can) + 1) % 1_000_000:06d}")
    assert info.value.code is Ckr.PIN_INCORRECT
    contactless = _library(citizen_card, test_pki, Interface.CONTACTLESS)
    with pytest.raises(P11Error) as info:
        contactless.login_token(0, citizen_card.made.secrets.pin2, can=can)
    assert info.value.code is Ckr.FUNCTION_NOT_SUPPORTED  # PIN2 only over the contact interface
    assert info.value.__cause__ is not None
    assert getattr(info.value.__cause__, "sw", None) == StatusWord.CONDITIONS_NOT_SATISFIED
