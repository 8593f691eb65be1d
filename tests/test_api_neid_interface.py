"""The N_eID-Interface (table 11: GetCertificate, SignRequest, VerifyRequest, ShowViewer, EncryptRequest,
DecryptRequest) end to end against a personalised virtual card with a filled certificate zone, with
OpenSSL as the independent CMS implementation when it is installed."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from neweid.card import VirtualCard
from neweid.formats.filemap import Interface
from neweid.pki.testpki import TestPki
from neweid.terminal.neid_interface import (
    CmsError,
    NeidInterface,
    NeidInterfaceError,
    SignatureNotTrustedError,
)
from neweid.terminal.p11 import CitizenCertificateLibrary, Slot
from neweid.terminal.p11_errors import Ckr, P11Error
from neweid.terminal.transport import InProcessTransport
from tests.conftest import require_system_part
from tests.test_terminal_eac_support import NOW, EacCard, EacChain, SmallIssuer, eac_card

DOCUMENT = "立約人 王小明 同意本契約條款".encode()
SIGNED_AT = NOW + dt.timedelta(hours=1)
OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def citizen_card(tmp_path_factory: pytest.TempPathFactory, test_pki: TestPki) -> EacCard:
    return eac_card(tmp_path_factory.mktemp("neid") / "citizen.card", test_pki, seed=21,
                    cvcas=[EacChain().cvca], issuer=SmallIssuer())


def _neid(card: EacCard, test_pki: TestPki, path: Path | None = None) -> NeidInterface:
    virtual = VirtualCard.load(path or card.path)
    slot = Slot(0, "virtual reader", lambda: InProcessTransport(virtual, Interface.CONTACT))
    lib = CitizenCertificateLibrary([slot], [test_pki.csca_certificate])
    return NeidInterface(lib, 0, can=card.made.secrets.can, clock=lambda: SIGNED_AT)


def _issuer_root(card: EacCard) -> bytes:
    virtual = VirtualCard.load(card.path)
    lib = CitizenCertificateLibrary([Slot(0, "r", lambda: InProcessTransport(virtual))])
    lib.open_session(0, can=card.made.secrets.can)
    return lib.get_cert(0, 1).public_bytes(Encoding.DER)


@pytest.fixture(scope="module")
def root(citizen_card: EacCard) -> x509.Certificate:
    """The citizen root CA (CERT1), which a relying party holds as its trust anchor."""
    return x509.load_der_x509_certificate(_issuer_root(citizen_card))


def test_get_certificate(citizen_card: EacCard, test_pki: TestPki) -> None:
    neid = _neid(citizen_card, test_pki)
    rsa_sign = neid.get_certificate("sign", "rsa")
    assert isinstance(rsa_sign.public_key(), rsa.RSAPublicKey)
    assert rsa_sign.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    ec_sign = neid.get_certificate("sign", "ec")
    assert isinstance(ec_sign.public_key(), ec.EllipticCurvePublicKey)
    encrypt = neid.get_certificate("encrypt", "rsa")
    assert encrypt.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment
    agreement = neid.get_certificate("encrypt", "ec")
    assert agreement.extensions.get_extension_for_class(x509.KeyUsage).value.key_agreement
    assert len({c.serial_number for c in (rsa_sign, ec_sign, encrypt, agreement)}) == 4
    with pytest.raises(NeidInterfaceError) as info:
        neid.get_certificate("authenticate", "rsa")
    assert info.value.code is Ckr.ARGUMENTS_BAD


@pytest.mark.parametrize(("key", "digest"), [("rsa-sign", "sha256"), ("ec-sign", "sha512")])
@pytest.mark.parametrize("detached", [True, False])
def test_sign_request_then_verify_request(citizen_card: EacCard, test_pki: TestPki, root: x509.Certificate,
                                          key: str, digest: str, detached: bool) -> None:
    neid = _neid(citizen_card, test_pki)
    signed = neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2, key=key, detached=detached)
    info = cms.ContentInfo.load(signed)
    assert info["content_type"].native == "signed_data"
    assert (info["content"]["encap_content_info"]["content"].native is None) is detached
    assert len(info["content"]["certificates"]) == 3  # signer, intermediate, root from the card
    result = NeidInterface.verify_request(signed, DOCUMENT if detached else None, trust_anchors=[root],
                                          at=SIGNED_AT)
    signer = neid.get_certificate("sign", "rsa" if key == "rsa-sign" else "ec")
    assert result.signer_certificate == signer
    assert result.signer_subject == signer.subject.rfc4514_string()
    assert result.signing_time == SIGNED_AT
    assert result.chain[-1] == root and len(result.chain) == 3
    assert result.content == DOCUMENT and result.digest_algorithm == digest


def test_verify_request_rejects_tampering_and_untrusted_chains(citizen_card: EacCard, test_pki: TestPki,
                                                               root: x509.Certificate) -> None:
    neid = _neid(citizen_card, test_pki)
    signed = neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2)
    with pytest.raises(SignatureNotTrustedError, match="message digest") as info:
        NeidInterface.verify_request(signed, DOCUMENT + b"!", trust_anchors=[root], at=SIGNED_AT)
    assert info.value.code is Ckr.SIGNATURE_INVALID
    tampered = bytearray(signed)
    tampered[-5] ^= 0x01  # inside the signature value
    with pytest.raises(SignatureNotTrustedError, match="does not verify"):
        NeidInterface.verify_request(bytes(tampered), DOCUMENT, trust_anchors=[root], at=SIGNED_AT)
    with pytest.raises(SignatureNotTrustedError, match="no trusted issuer"):
        NeidInterface.verify_request(signed, DOCUMENT, trust_anchors=[test_pki.csca_certificate],
                                     at=SIGNED_AT)
    with pytest.raises(SignatureNotTrustedError, match="not valid at"):
        NeidInterface.verify_request(signed, DOCUMENT, trust_anchors=[root],
                                     at=NOW + dt.timedelta(days=4000))
    with pytest.raises(CmsError, match="detached"):
        NeidInterface.verify_request(signed, None, trust_anchors=[root], at=SIGNED_AT)
    with pytest.raises(CmsError):
        NeidInterface.verify_request(b"\x30\x03\x02\x01\x00", DOCUMENT, trust_anchors=[root])
    enveloped = neid.encrypt_request(DOCUMENT, neid.get_certificate("encrypt"))
    with pytest.raises(CmsError, match="expected signed_data"):
        NeidInterface.verify_request(enveloped, DOCUMENT, trust_anchors=[root])


def test_sign_request_refuses_non_signing_keys(citizen_card: EacCard, test_pki: TestPki) -> None:
    neid = _neid(citizen_card, test_pki)
    with pytest.raises(NeidInterfaceError) as info:
        neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2, key="rsa-encrypt")
    assert info.value.code is Ckr.KEY_FUNCTION_NOT_PERMITTED
    with pytest.raises(NeidInterfaceError):
        neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2, key="aa-key")


def test_wrong_pin2_is_the_library_pin_error(citizen_card: EacCard, test_pki: TestPki,
                                            tmp_path: Path) -> None:
    copy = tmp_path / "card"
    shutil.copy(citizen_card.path, copy)  # the wrong PIN uses up a try: keep the shared card intact
    neid = _neid(citizen_card, test_pki, copy)
    wrong = "0" * len(citizen_card.made.secrets.pin2)
    if wrong == citizen_card.made.secrets.pin2:
        wrong = "1" * len(wrong)
    with pytest.raises(P11Error) as info:
        neid.sign_request(DOCUMENT, wrong)
    assert info.value.code is Ckr.PIN_INCORRECT
    enveloped = neid.encrypt_request(DOCUMENT, neid.get_certificate("encrypt"))
    with pytest.raises(P11Error) as info:
        neid.decrypt_request(enveloped, wrong)
    assert info.value.code is Ckr.PIN_INCORRECT


def test_encrypt_request_then_decrypt_request(citizen_card: EacCard, test_pki: TestPki) -> None:
    neid = _neid(citizen_card, test_pki)
    recipient = neid.get_certificate("encrypt", "rsa")
    enveloped = neid.encrypt_request(DOCUMENT, recipient)
    info = cms.ContentInfo.load(enveloped)
    assert info["content_type"].native == "enveloped_data"
    assert DOCUMENT not in enveloped
    algo = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]["algorithm"]
    assert algo.native == "aes256_cbc"
    assert neid.decrypt_request(enveloped, citizen_card.made.secrets.pin2) == DOCUMENT
    assert neid.decrypt_request(neid.encrypt_request(b"", recipient), citizen_card.made.secrets.pin2) == b""
    with pytest.raises(NeidInterfaceError) as error:
        neid.encrypt_request(DOCUMENT, neid.get_certificate("sign", "ec"))
    assert error.value.code is Ckr.KEY_FUNCTION_NOT_PERMITTED
    to_someone_else = neid.encrypt_request(DOCUMENT, neid.get_certificate("sign", "rsa"))
    with pytest.raises(NeidInterfaceError) as error:
        neid.decrypt_request(to_someone_else, citizen_card.made.secrets.pin2)
    assert error.value.code is Ckr.KEY_HANDLE_INVALID
    tampered = bytearray(enveloped)
    tampered[-1] ^= 0x55  # last ciphertext block: the padding breaks
    with pytest.raises(CmsError):
        neid.decrypt_request(bytes(tampered), citizen_card.made.secrets.pin2)


def test_show_viewer(citizen_card: EacCard, test_pki: TestPki) -> None:
    neid = _neid(citizen_card, test_pki)
    text = NeidInterface.show_viewer(DOCUMENT)
    assert "data to be signed" in text and "text (UTF-8)" in text
    assert f"Size: {len(DOCUMENT)} bytes" in text
    assert hashlib.sha256(DOCUMENT).hexdigest() in text and "王小明" in text
    binary = NeidInterface.show_viewer(b"\x00\xff" * 10)
    assert "binary data" in binary and "Text:" not in binary
    signed = neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2, detached=False)
    shown = NeidInterface.show_viewer(signed)
    signer = neid.get_certificate("sign").subject.rfc4514_string()
    assert "CMS SignedData" in shown and f"Signer: {signer}" in shown
    assert SIGNED_AT.isoformat() in shown and hashlib.sha256(DOCUMENT).hexdigest() in shown
    detached = NeidInterface.show_viewer(neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2))
    assert "detached" in detached and "SHA-256" not in detached
    enveloped = NeidInterface.show_viewer(neid.encrypt_request(DOCUMENT, neid.get_certificate("encrypt")))
    assert "EnvelopedData" in enveloped and "aes256_cbc" in enveloped and "王小明" not in enveloped


def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], capture_output=True, check=False)


@pytest.mark.parametrize("key", ["rsa-sign", "ec-sign"])
def test_openssl_accepts_sign_request(citizen_card: EacCard, test_pki: TestPki, root: x509.Certificate,
                                      tmp_path: Path, key: str) -> None:
    require_system_part(OPENSSL is not None, "openssl")
    neid = _neid(citizen_card, test_pki)
    (tmp_path / "sig.der").write_bytes(neid.sign_request(DOCUMENT, citizen_card.made.secrets.pin2, key=key))
    (tmp_path / "data").write_bytes(DOCUMENT)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    base = ["cms", "-verify", "-binary", "-CAfile", str(tmp_path / "root.pem"), "-inform", "DER",
            "-in", str(tmp_path / "sig.der"), "-out", str(tmp_path / "out")]
    done = _openssl(*base, "-content", str(tmp_path / "data"))
    assert done.returncode == 0, done.stderr.decode()
    assert (tmp_path / "out").read_bytes() == DOCUMENT
    (tmp_path / "data").write_bytes(DOCUMENT + b"!")
    assert _openssl(*base, "-content", str(tmp_path / "data")).returncode != 0


def test_openssl_enveloped_data_decrypts_on_the_card(citizen_card: EacCard, test_pki: TestPki,
                                                     tmp_path: Path) -> None:
    require_system_part(OPENSSL is not None, "openssl")
    neid = _neid(citizen_card, test_pki)
    (tmp_path / "recip.pem").write_bytes(neid.get_certificate("encrypt").public_bytes(Encoding.PEM))
    (tmp_path / "data").write_bytes(DOCUMENT)
    done = _openssl("cms", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER",
                    "-in", str(tmp_path / "data"), "-out", str(tmp_path / "env.der"),
                    str(tmp_path / "recip.pem"))
    assert done.returncode == 0, done.stderr.decode()
    enveloped = (tmp_path / "env.der").read_bytes()
    assert neid.decrypt_request(enveloped, citizen_card.made.secrets.pin2) == DOCUMENT
