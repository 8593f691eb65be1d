"""Document-Signer PKI (PKI-4): key store, CSCA and Document Signer profiles, zone signing, test PKI."""

from __future__ import annotations

import datetime
import json
import stat
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from neweid.formats.security_infos import PACEInfo, decode_security_infos, encode_security_infos
from neweid.formats.security_object import (
    ID_LDS_SECURITY_OBJECT,
    ID_SECURITY_OBJECT,
    HashAlgorithm,
    LdsSecurityObject,
)
from neweid.pki.csca import Csca
from neweid.pki.document_signer import DocumentSigner, sign_zone
from neweid.pki.errors import CertificateError, KeyStoreError, PkiError, SigningError, TestPkiError
from neweid.pki.keystore import (
    PASSPHRASE_ENV,
    TEST_PKI_PASSPHRASE,
    Curve,
    FileKeyStore,
    KeyStoreSigner,
    SignatureAlgorithm,
    passphrase_from_environment,
)
from neweid.pki.testpki import TestPki
from neweid.pki.x509util import add_months, random_serial

NOW = datetime.datetime(2026, 3, 1, 8, 30, tzinfo=datetime.UTC)
PASSPHRASE = b"unit-test passphrase"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[FileKeyStore, Csca, DocumentSigner]:
    store = FileKeyStore(tmp_path_factory.mktemp("keys") / "keys", PASSPHRASE)
    csca = Csca.create(store, "csca", not_before=NOW)
    ds = DocumentSigner.create(store, "ds", csca, not_before=NOW)
    return store, csca, ds


# --- key store -----------------------------------------------------------------------------------------


def test_file_key_store_keeps_encrypted_pkcs8_with_owner_only_permissions(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "ks", PASSPHRASE)
    handle = store.generate_ec_key("signer-1", Curve.P521)
    path = tmp_path / "ks" / "signer-1.key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ks").stat().st_mode) == 0o700
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = serialization.load_pem_private_key(pem, password=PASSPHRASE)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp521r1"
    assert handle.label == "signer-1" and handle.curve is Curve.P521
    assert handle.public_key().public_numbers() == key.public_key().public_numbers()
    assert store.has_key("signer-1") and not store.has_key("other")
    assert "unit-test" not in repr(store)


def test_key_store_signs_without_handing_out_the_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, PASSPHRASE)
    store.generate_ec_key("k", Curve.P256)
    signature = store.sign("k", b"message", SignatureAlgorithm.ECDSA_SHA256)
    store.public_key("k").verify(signature, b"message", ec.ECDSA(hashes.SHA256()))
    # a fresh store object (no cache) reads the encrypted file back
    reopened = FileKeyStore(tmp_path, PASSPHRASE)
    signer = KeyStoreSigner(reopened, "k", SignatureAlgorithm.ECDSA_SHA512)
    signer.public_key().verify(signer.sign(b"m2"), b"m2", ec.ECDSA(hashes.SHA512()))
    with pytest.raises(InvalidSignature):
        signer.public_key().verify(signer.sign(b"m2"), b"m3", ec.ECDSA(hashes.SHA512()))


def test_key_store_errors(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, PASSPHRASE)
    store.generate_ec_key("k")
    with pytest.raises(KeyStoreError, match="already exists"):
        store.generate_ec_key("k")
    with pytest.raises(KeyStoreError, match="no key labelled"):
        store.sign("missing", b"x", SignatureAlgorithm.ECDSA_SHA512)
    with pytest.raises(KeyStoreError, match="invalid key label"):
        store.generate_ec_key("../escape")
    with pytest.raises(KeyStoreError, match="wrong passphrase"):
        FileKeyStore(tmp_path, b"wrong").public_key("k")
    (tmp_path / "bad.key.pem").write_bytes(b"not a key")
    with pytest.raises(KeyStoreError, match="damaged"):
        store.public_key("bad")
    with pytest.raises(KeyStoreError, match="must not be empty"):
        FileKeyStore(tmp_path, b"")


def test_passphrase_from_environment() -> None:
    assert passphrase_from_environment({PASSPHRASE_ENV: "s3cret"}) == b"s3cret"
    assert passphrase_from_environment({}) == TEST_PKI_PASSPHRASE
    assert passphrase_from_environment({PASSPHRASE_ENV: ""}) == TEST_PKI_PASSPHRASE


# --- certificate profiles ------------------------------------------------------------------------------


def _ext(cert: x509.Certificate, cls: type[x509.ExtensionType]) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(cls)


def test_csca_profile(pki: tuple[FileKeyStore, Csca, DocumentSigner]) -> None:
    _, csca, _ = pki
    cert = csca.certificate
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "TW"
    organisation = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert organisation == "Ministry of the Interior"
    assert str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value).endswith("CSCA")
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp521r1"
    assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA512
    cert.verify_directly_issued_by(cert)
    basic = _ext(cert, x509.BasicConstraints)
    assert basic.critical and basic.value == x509.BasicConstraints(ca=True, path_length=0)
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign and not usage.value.digital_signature
    assert cert.not_valid_before_utc == NOW.replace(microsecond=0)
    assert cert.not_valid_after_utc == NOW.replace(year=2041)
    assert cert.serial_number > 0


def test_document_signer_profile(pki: tuple[FileKeyStore, Csca, DocumentSigner]) -> None:
    _, csca, ds = pki
    cert = ds.certificate
    cert.verify_directly_issued_by(csca.certificate)
    assert cert.issuer == csca.certificate.subject
    usage = _ext(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    with pytest.raises(x509.ExtensionNotFound):
        _ext(cert, x509.BasicConstraints)
    aki = _ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == _ext(csca.certificate, x509.SubjectKeyIdentifier).value.digest
    assert cert.not_valid_after_utc == datetime.datetime(2036, 6, 1, 8, 30, tzinfo=datetime.UTC)  # +10y3m
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp521r1"


def test_document_signer_validity_is_clamped_to_the_csca(
    pki: tuple[FileKeyStore, Csca, DocumentSigner],
) -> None:
    _, csca, _ = pki
    late = NOW.replace(year=2038)
    cert = csca.issue_document_signer(ec.generate_private_key(ec.SECP521R1()).public_key(), not_before=late)
    assert cert.not_valid_after_utc == csca.certificate.not_valid_after_utc
    with pytest.raises(CertificateError, match="outside the CSCA"):
        csca.issue_document_signer(ec.generate_private_key(ec.SECP521R1()).public_key(),
                                   not_before=NOW.replace(year=2042))
    with pytest.raises(CertificateError, match="timezone-aware"):
        csca.issue_document_signer(ec.generate_private_key(ec.SECP521R1()).public_key(),
                                   not_before=datetime.datetime(2027, 1, 1))  # noqa: DTZ001


def test_serial_numbers_come_from_the_injected_randomness(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, PASSPHRASE)
    csca = Csca.create(store, "c", not_before=NOW, rng=lambda n: bytes(n))
    assert csca.certificate.serial_number == 1 << 62
    assert 0 < random_serial(lambda n: b"\xff" * n) < 1 << 63


def test_add_months_clamps_the_day() -> None:
    assert add_months(datetime.datetime(2024, 2, 29, tzinfo=datetime.UTC), 12).day == 28
    assert add_months(datetime.datetime(2026, 1, 31, tzinfo=datetime.UTC), 1) == \
        datetime.datetime(2026, 2, 28, tzinfo=datetime.UTC)
    assert add_months(datetime.datetime(2026, 11, 15, tzinfo=datetime.UTC), 123) == \
        datetime.datetime(2037, 2, 15, tzinfo=datetime.UTC)


def test_csca_load_checks_the_key(pki: tuple[FileKeyStore, Csca, DocumentSigner]) -> None:
    store, csca, _ = pki
    assert Csca.load(store, "csca", csca.certificate).certificate == csca.certificate
    with pytest.raises(CertificateError, match="does not belong"):
        Csca.load(store, "ds", csca.certificate)


# --- signing --------------------------------------------------------------------------------------------


def _signed_data(sod: bytes) -> cms.SignedData:
    info = cms.ContentInfo.load(sod, strict=True)
    assert info["content_type"].native == "signed_data"
    return info["content"]


def test_sign_zone_builds_the_icao_signed_data(pki: tuple[FileKeyStore, Csca, DocumentSigner]) -> None:
    _, _, ds = pki
    groups = {1: b"\x61\x03\x80\x01A", 2: b"\x62\x00"}
    at = NOW + datetime.timedelta(days=1)
    sod = ds.sign_zone(groups, signing_time=at)
    signed = _signed_data(sod)
    assert signed["version"].native == "v3"
    assert [a["algorithm"].native for a in signed["digest_algorithms"]] == ["sha512"]
    assert signed["encap_content_info"]["content_type"].dotted == ID_LDS_SECURITY_OBJECT
    lds = LdsSecurityObject.decode(signed["encap_content_info"]["content"].native)
    assert lds == LdsSecurityObject.compute(groups, HashAlgorithm.SHA512)
    embedded = [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"]]
    assert embedded == [ds.certificate]
    signer_info = signed["signer_infos"][0]
    assert signer_info["version"].native == "v1"
    assert signer_info["sid"].chosen["serial_number"].native == ds.certificate.serial_number
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha512_ecdsa"
    attrs = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    assert set(attrs) == {"content_type", "message_digest", "signing_time"}
    assert attrs["content_type"].dotted == ID_LDS_SECURITY_OBJECT
    assert attrs["signing_time"].native == at
    signed_bytes = b"\x31" + signer_info["signed_attrs"].dump()[1:]
    key = ds.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signer_info["signature"].native, signed_bytes, ec.ECDSA(hashes.SHA512()))


def test_sign_card_security(pki: tuple[FileKeyStore, Csca, DocumentSigner]) -> None:
    _, _, ds = pki
    infos = encode_security_infos([PACEInfo(parameter_id=18)])
    signed = _signed_data(ds.sign_card_security(infos, signing_time=NOW))
    assert signed["encap_content_info"]["content_type"].dotted == ID_SECURITY_OBJECT
    content = signed["encap_content_info"]["content"].native
    assert decode_security_infos(content) == [PACEInfo(parameter_id=18)]
    with pytest.raises(SigningError, match="not SecurityInfos"):
        ds.sign_card_security(b"\x30\x00", signing_time=NOW)


def test_signing_refuses_bad_input(pki: tuple[FileKeyStore, Csca, DocumentSigner]) -> None:
    store, _, ds = pki
    with pytest.raises(SigningError, match="at least one"):
        ds.sign_zone({}, signing_time=NOW)
    with pytest.raises(SigningError, match=r"not in 1\.\.16"):
        ds.sign_zone({17: b"\x71\x00"}, signing_time=NOW)
    with pytest.raises(SigningError, match="outside"):
        ds.sign_zone({1: b"\x61\x00"}, signing_time=NOW - datetime.timedelta(days=1))
    with pytest.raises(SigningError, match="timezone-aware"):
        ds.sign_zone({1: b"\x61\x00"}, signing_time=datetime.datetime(2027, 1, 1))  # noqa: DTZ001
    with pytest.raises(SigningError, match="does not match"):
        sign_zone({1: b"\x61\x00"}, KeyStoreSigner(store, "csca"), ds.certificate, signing_time=NOW)
    assert issubclass(SigningError, PkiError) and issubclass(PkiError, ValueError)


# --- test PKI directory ----------------------------------------------------------------------------------


def test_test_pki_is_created_once_and_reused(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    first = TestPki.open_or_create(directory, now=NOW, passphrase=PASSPHRASE)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["format"] == "neweid-test-pki" and manifest["version"] == 1
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    second = TestPki.open_or_create(directory, now=NOW + datetime.timedelta(days=400), passphrase=PASSPHRASE)
    assert second.csca_certificate == first.csca_certificate
    assert second.document_signer.certificate == first.document_signer.certificate
    assert x509.load_pem_x509_certificate(second.export_csca_pem()) == first.csca_certificate
    sod = second.document_signer.sign_zone({1: b"\x61\x00"}, signing_time=NOW)
    assert _signed_data(sod)["encap_content_info"]["content_type"].dotted == ID_LDS_SECURITY_OBJECT


def test_test_pki_errors(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    TestPki.open_or_create(directory, now=NOW, passphrase=PASSPHRASE)
    with pytest.raises(TestPkiError, match="wrong passphrase"):
        TestPki.open_or_create(directory, now=NOW, passphrase=b"other")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file").write_text("x")
    with pytest.raises(TestPkiError, match="not empty"):
        TestPki.open_or_create(tmp_path / "junk", now=NOW, passphrase=PASSPHRASE)
    (directory / "manifest.json").write_text("{}")
    with pytest.raises(TestPkiError, match="manifest"):
        TestPki.open_or_create(directory, now=NOW, passphrase=PASSPHRASE)


def test_test_pki_uses_the_environment_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "from-env")
    TestPki.open_or_create(tmp_path / "p", now=NOW)
    assert TestPki.open_or_create(tmp_path / "p", now=NOW, passphrase=b"from-env") is not None
    with pytest.raises(TestPkiError):
        TestPki.open_or_create(tmp_path / "p", now=NOW, passphrase=TEST_PKI_PASSPHRASE)
