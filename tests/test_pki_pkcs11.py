"""PKCS#11 key store (SoftHSM2), the RSA additions to the key stores, and the key-store factory."""

from __future__ import annotations

import datetime
import importlib.util
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from neweid.crypto.passive import verify_zone
from neweid.pki.csca import Csca
from neweid.pki.document_signer import DocumentSigner
from neweid.pki.errors import KeyStoreError
from neweid.pki.keystore import (
    PASSPHRASE_ENV,
    Curve,
    FileKeyStore,
    KeyHandle,
    KeyStore,
    KeyStoreSigner,
    SignatureAlgorithm,
)
from neweid.pki.pkcs11_keystore import (
    KEYSTORE_DIR_ENV,
    MODULE_ENV,
    PIN_ENV,
    SLOT_ENV,
    TOKEN_ENV,
    Pkcs11KeyStore,
    digest_info,
    key_id,
    keystore_from_environment,
)
from neweid.pki.x509util import sign_certificate
from tests.conftest import require_system_part

NOW = datetime.datetime(2026, 3, 1, 8, 30, tzinfo=datetime.UTC)
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "softhsm-init.sh"
MODULE_CANDIDATES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                     "/usr/local/lib/softhsm/libsofthsm2.so", "/usr/lib64/softhsm/libsofthsm2.so")
TOKEN = "neweid-test"
PIN_TOKEN = "neweid-pin-test"  # a second token nobody logs in to, for wrong-PIN logins
USER_PIN = "user-pin-4711"
SO_PIN = "so-pin-0815"


# --- without a token: DigestInfo, CKA_ID, RSA in the file store, the factory -------------------------


@pytest.mark.parametrize("algorithm", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_digest_info_matches_an_independent_pkcs1_implementation(algorithm: hashes.HashAlgorithm) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = key.sign(b"message", padding.PKCS1v15(), algorithm)
    recovered = key.public_key().recover_data_from_signature(signature, padding.PKCS1v15(), None)
    hasher = hashes.Hash(algorithm)
    hasher.update(b"message")
    assert digest_info(algorithm, hasher.finalize()) == recovered
    with pytest.raises(KeyStoreError, match="DigestInfo"):
        digest_info(algorithm, b"\x00" * 20)
    with pytest.raises(KeyStoreError, match="DigestInfo"):
        digest_info(hashes.SHA1(), b"\x00" * 20)


def test_key_id_is_derived_from_the_label() -> None:
    assert key_id("csca") == key_id("csca")
    assert len(key_id("csca")) == 16 and key_id("csca") != key_id("ds")
    assert key_id("abc") == bytes.fromhex("ba7816bf8f01cfea414140de5dae2223")  # SHA-256("abc"), FIPS 180-2


def test_file_key_store_rsa_keys(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, b"pass")
    handle = store.generate_rsa_key("citizen-rsa", 2048)
    assert handle.label == "citizen-rsa" and handle.bits == 2048
    public = store.verifying_key("citizen-rsa")
    assert isinstance(public, rsa.RSAPublicKey) and public.public_numbers().e == 65537
    assert public.public_numbers() == handle.public_key().public_numbers()
    signature = store.sign("citizen-rsa", b"data", SignatureAlgorithm.RSA_PKCS1_SHA256)
    public.verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    reopened = FileKeyStore(tmp_path, b"pass")
    signer = KeyStoreSigner(reopened, "citizen-rsa", SignatureAlgorithm.RSA_PKCS1_SHA512)
    public.verify(signer.sign(b"d2"), b"d2", padding.PKCS1v15(), hashes.SHA512())
    assert isinstance(signer.verifying_key(), rsa.RSAPublicKey)
    with pytest.raises(KeyStoreError, match="not an EC key"):
        store.public_key("citizen-rsa")
    with pytest.raises(KeyStoreError, match="cannot sign with sha512_ecdsa"):
        store.sign("citizen-rsa", b"data", SignatureAlgorithm.ECDSA_SHA512)
    store.generate_ec_key("ec")
    with pytest.raises(KeyStoreError, match="cannot sign with sha256_rsa"):
        store.sign("ec", b"data", SignatureAlgorithm.RSA_PKCS1_SHA256)
    assert isinstance(store.verifying_key("ec"), ec.EllipticCurvePublicKey)
    with pytest.raises(KeyStoreError, match="already exists"):
        store.generate_rsa_key("citizen-rsa")
    with pytest.raises(KeyStoreError, match="not supported"):
        store.generate_rsa_key("small", 1024)


def test_signature_algorithms_name_their_hash_and_family() -> None:
    assert SignatureAlgorithm.RSA_PKCS1_SHA384.hash().name == "sha384"
    assert SignatureAlgorithm.ECDSA_SHA384.hash().name == "sha384"
    assert SignatureAlgorithm.RSA_PKCS1_SHA256.is_rsa and not SignatureAlgorithm.ECDSA_SHA512.is_rsa
    assert [a.value for a in SignatureAlgorithm if a.is_rsa] == ["sha256_rsa", "sha384_rsa", "sha512_rsa"]


class _EcOnlyStore(KeyStore):
    """A store written before RSA support: only the abstract methods."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def generate_ec_key(self, label: str, curve: Curve = Curve.P521) -> KeyHandle:
        return self.handle(label)

    def sign(self, label: str, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return self._key.sign(data, ec.ECDSA(algorithm.hash()))

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def has_key(self, label: str) -> bool:
        return True


def test_rsa_additions_keep_older_stores_working() -> None:
    store = _EcOnlyStore()
    assert store.verifying_key("k") == store.public_key("k")
    with pytest.raises(KeyStoreError, match="cannot generate RSA keys"):
        store.generate_rsa_key("r")


def test_keystore_from_environment_without_pkcs11(tmp_path: Path) -> None:
    store = keystore_from_environment({KEYSTORE_DIR_ENV: str(tmp_path / "ks"), PASSPHRASE_ENV: "p"})
    assert isinstance(store, FileKeyStore) and store.directory == tmp_path / "ks"
    store.generate_ec_key("k", Curve.P256)
    assert FileKeyStore(tmp_path / "ks", b"p").has_key("k")
    explicit = keystore_from_environment({}, directory=tmp_path / "other")
    assert isinstance(explicit, FileKeyStore) and explicit.directory == tmp_path / "other"
    with pytest.raises(KeyStoreError, match="no key store configured"):
        keystore_from_environment({})
    with pytest.raises(KeyStoreError, match="must be set too"):
        keystore_from_environment({MODULE_ENV: "/x.so", TOKEN_ENV: "t"})
    with pytest.raises(KeyStoreError, match="slot number"):
        keystore_from_environment({MODULE_ENV: "/x.so", TOKEN_ENV: "t", PIN_ENV: "1", SLOT_ENV: "one"})


# --- SoftHSM2 -------------------------------------------------------------------------------------------


def _softhsm_module() -> str | None:
    return next((m for m in MODULE_CANDIDATES if os.path.isfile(m)), None)


def _have_softhsm() -> bool:
    return (_softhsm_module() is not None and shutil.which("softhsm2-util") is not None
            and importlib.util.find_spec("pkcs11") is not None)


@dataclass(frozen=True)
class Hsm:
    directory: Path
    module: str
    store: Pkcs11KeyStore

    def environ(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.directory / "softhsm2.conf"),
                "NEWEID_PKCS11_SO_PIN": SO_PIN, PIN_ENV: USER_PIN, MODULE_ENV: self.module, **extra}


def _init_token(directory: Path, label: str, module: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWEID_PKCS11_SO_PIN": SO_PIN, PIN_ENV: USER_PIN, MODULE_ENV: module}
    return subprocess.run(["bash", str(SCRIPT), str(directory), label], env=env,
                          capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hsm]:
    """Two throw-away SoftHSM2 tokens in a temporary directory, and a store logged in to the first."""
    require_system_part(_have_softhsm(), "SoftHSM2 and python-pkcs11")
    module = _softhsm_module()
    assert module is not None
    directory = tmp_path_factory.mktemp("softhsm")
    for label in (TOKEN, PIN_TOKEN):
        done = _init_token(directory, label, module)
        assert done.returncode == 0, done.stderr
    assert f"export SOFTHSM2_CONF={directory / 'softhsm2.conf'}" in done.stdout
    assert USER_PIN not in done.stdout and SO_PIN not in done.stdout
    with pytest.MonkeyPatch.context() as patch:
        # SoftHSM2 reads its configuration when the module is initialised, i.e. at the first store
        patch.setenv("SOFTHSM2_CONF", str(directory / "softhsm2.conf"))
        store = Pkcs11KeyStore(module, TOKEN, USER_PIN)  # module may be a symbolic link
        try:
            # python-pkcs11 initialises a module once per path: the tests use the store's resolved path
            yield Hsm(directory, os.path.realpath(module), store)
        finally:
            store.close()


@contextmanager
def _raw_objects(hsm: Hsm, label: str) -> Iterator[dict[str, Any]]:
    """The token's objects for ``label``, through a separate session that does not log in itself."""
    import pkcs11

    token = pkcs11.lib(hsm.module).get_token(token_label=TOKEN)
    with token.open() as session:  # sees private objects: the store's login is the application's
        yield {str(obj[pkcs11.Attribute.CLASS].name): obj for obj in
               session.get_objects({pkcs11.Attribute.LABEL: label})}


def test_softhsm_p521_key_signs_like_the_file_store(hsm: Hsm) -> None:
    handle = hsm.store.generate_ec_key("p521", Curve.P521)
    assert handle.label == "p521" and handle.curve is Curve.P521
    public = hsm.store.public_key("p521")
    assert public.curve.name == "secp521r1" and handle.public_key() == public
    assert hsm.store.verifying_key("p521") == public and hsm.store.has_key("p521")
    for algorithm in (SignatureAlgorithm.ECDSA_SHA512, SignatureAlgorithm.ECDSA_SHA256):
        signature = hsm.store.sign("p521", b"zone data", algorithm)
        r, s = decode_dss_signature(signature)  # DER ECDSA-Sig-Value, as FileKeyStore returns
        assert r > 0 and s > 0
        public.verify(signature, b"zone data", ec.ECDSA(algorithm.hash()))
        with pytest.raises(InvalidSignature):
            public.verify(signature, b"other data", ec.ECDSA(algorithm.hash()))
    hsm.store.generate_ec_key("p256", Curve.P256)
    hsm.store.public_key("p256").verify(hsm.store.sign("p256", b"m", SignatureAlgorithm.ECDSA_SHA256),
                                        b"m", ec.ECDSA(hashes.SHA256()))


def test_softhsm_private_key_never_leaves_the_token(hsm: Hsm) -> None:
    import pkcs11

    hsm.store.generate_ec_key("guarded")
    attr = pkcs11.Attribute
    with _raw_objects(hsm, "guarded") as objects:
        assert set(objects) == {"PRIVATE_KEY", "PUBLIC_KEY"}
        private = objects["PRIVATE_KEY"]
        assert private[attr.SENSITIVE] is True and private[attr.EXTRACTABLE] is False
        assert private[attr.PRIVATE] is True and private[attr.TOKEN] is True
        assert private[attr.ALWAYS_SENSITIVE] is True and private[attr.NEVER_EXTRACTABLE] is True
        assert private[attr.SIGN] is True and private[attr.DECRYPT] is False
        assert private[attr.DERIVE] is False and private[attr.UNWRAP] is False
        assert private[attr.LABEL] == "guarded"
        assert private[attr.ID] == objects["PUBLIC_KEY"][attr.ID] == key_id("guarded")
        with pytest.raises(pkcs11.AttributeSensitive):
            private[attr.VALUE]  # reading the secret value must fail


def test_softhsm_rsa_2048_key(hsm: Hsm) -> None:
    handle = hsm.store.generate_rsa_key("rsa", 2048)
    public = hsm.store.verifying_key("rsa")
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048 == handle.bits
    assert public.public_numbers() == handle.public_key().public_numbers()
    assert public.public_numbers().e == 65537
    for algorithm in (SignatureAlgorithm.RSA_PKCS1_SHA256, SignatureAlgorithm.RSA_PKCS1_SHA512):
        signature = hsm.store.sign("rsa", b"certificate", algorithm)
        public.verify(signature, b"certificate", padding.PKCS1v15(), algorithm.hash())
    with pytest.raises(KeyStoreError, match="not an EC key"):
        hsm.store.public_key("rsa")
    with pytest.raises(KeyStoreError, match="cannot sign with sha512_ecdsa"):
        hsm.store.sign("rsa", b"x", SignatureAlgorithm.ECDSA_SHA512)
    with pytest.raises(KeyStoreError, match="not supported"):
        hsm.store.generate_rsa_key("rsa-1024", 1024)
    assert not hsm.store.has_key("rsa-1024")


def test_softhsm_csca_and_document_signer_pass_passive_authentication(hsm: Hsm) -> None:
    csca = Csca.create(hsm.store, "flow-csca", not_before=NOW)
    ds = DocumentSigner.create(hsm.store, "flow-ds", csca, not_before=NOW)
    ds.certificate.verify_directly_issued_by(csca.certificate)
    groups = {1: b"\x61\x03\x80\x01A", 2: b"\x62\x00"}
    sod = ds.sign_zone(groups, signing_time=NOW + datetime.timedelta(days=1))
    result = verify_zone(sod, groups, [csca.certificate], at=NOW + datetime.timedelta(days=2))
    assert result.checked_data_groups == (1, 2) and result.complete
    assert result.signer_certificate == ds.certificate
    assert Csca.load(hsm.store, "flow-csca", csca.certificate).certificate == csca.certificate


def _pem(cert: x509.Certificate, path: Path) -> str:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _openssl_verify(ca: str, cert: str, at: datetime.datetime) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "verify", "-attime", str(int(at.timestamp())), "-CAfile", ca, cert],
        capture_output=True, text=True, check=False, timeout=60)


def test_openssl_verifies_certificates_signed_on_the_token(hsm: Hsm, tmp_path: Path) -> None:
    require_system_part(shutil.which("openssl") is not None, "openssl")
    csca = Csca.create(hsm.store, "openssl-csca", not_before=NOW)
    ds = DocumentSigner.create(hsm.store, "openssl-ds", csca, not_before=NOW)
    at = NOW + datetime.timedelta(days=30)
    done = _openssl_verify(_pem(csca.certificate, tmp_path / "csca.pem"),
                           _pem(ds.certificate, tmp_path / "ds.pem"), at)
    assert done.returncode == 0 and ": OK" in done.stdout, done.stdout + done.stderr
    # an RSA certificate signed with PKCS#1 v1.5 on the token
    hsm.store.generate_rsa_key("openssl-rsa", 2048)
    public = hsm.store.verifying_key("openssl-rsa")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "neweid HSM RSA test")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
               .serial_number(4711).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    signer = KeyStoreSigner(hsm.store, "openssl-rsa", SignatureAlgorithm.RSA_PKCS1_SHA256)
    certificate = sign_certificate(builder, signer)
    assert certificate.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    path = _pem(certificate, tmp_path / "rsa.pem")
    done = _openssl_verify(path, path, at)
    assert done.returncode == 0 and ": OK" in done.stdout, done.stdout + done.stderr
    # and rejects a certificate whose signature was altered
    der = bytearray(certificate.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 1
    (tmp_path / "bad.pem").write_bytes(x509.load_der_x509_certificate(bytes(der)).public_bytes(
        serialization.Encoding.PEM))
    assert _openssl_verify(path, str(tmp_path / "bad.pem"), at).returncode != 0


def test_softhsm_wrong_pin(hsm: Hsm) -> None:
    # a real C_Login with a wrong PIN (nobody is logged in to this token)
    with pytest.raises(KeyStoreError, match=f"wrong user PIN for token '{PIN_TOKEN}'"):
        Pkcs11KeyStore(hsm.module, PIN_TOKEN, "0000-wrong")
    with Pkcs11KeyStore(hsm.module, PIN_TOKEN, USER_PIN) as store:
        assert not store.has_key("anything")
    # a token this process is logged in to: the PIN is compared with the one that logged in
    with pytest.raises(KeyStoreError, match=f"wrong user PIN for token '{TOKEN}'"):
        Pkcs11KeyStore(hsm.module, TOKEN, "0000-wrong")


def test_softhsm_missing_things(hsm: Hsm) -> None:
    store = hsm.store
    with pytest.raises(KeyStoreError, match="no key labelled 'absent'"):
        store.sign("absent", b"x", SignatureAlgorithm.ECDSA_SHA512)
    with pytest.raises(KeyStoreError, match="no key labelled 'absent'"):
        store.public_key("absent")
    with pytest.raises(KeyStoreError, match="no key labelled 'absent'"):
        store.handle("absent")
    assert not store.has_key("absent")
    with pytest.raises(KeyStoreError, match="no PKCS#11 token labelled 'no-such-token'"):
        Pkcs11KeyStore(hsm.module, "no-such-token", USER_PIN)
    with pytest.raises(KeyStoreError, match="cannot load the PKCS#11 module"):
        Pkcs11KeyStore(hsm.directory / "missing.so", TOKEN, USER_PIN)
    with pytest.raises(KeyStoreError, match="invalid key label"):
        store.generate_ec_key("")
    with pytest.raises(KeyStoreError, match="must be bytes"):
        store.sign("p521", "text", SignatureAlgorithm.ECDSA_SHA512)  # type: ignore[arg-type]
    with pytest.raises(KeyStoreError, match="non-empty"):
        Pkcs11KeyStore(hsm.module, TOKEN, "")


def test_softhsm_label_taken(hsm: Hsm) -> None:
    hsm.store.generate_ec_key("taken", Curve.P256)
    with pytest.raises(KeyStoreError, match="already exists"):
        hsm.store.generate_ec_key("taken")
    with pytest.raises(KeyStoreError, match="already exists"):
        hsm.store.generate_rsa_key("taken")
    with _raw_objects(hsm, "taken") as objects:
        assert set(objects) == {"PRIVATE_KEY", "PUBLIC_KEY"}  # no second key pair was made


def test_softhsm_stores_share_the_login(hsm: Hsm) -> None:
    hsm.store.generate_ec_key("shared", Curve.P256)
    second = Pkcs11KeyStore(hsm.module, TOKEN, USER_PIN)
    assert second.public_key("shared") == hsm.store.public_key("shared")
    second.close()
    second.close()  # idempotent
    with pytest.raises(KeyStoreError, match="closed"):
        second.sign("shared", b"x", SignatureAlgorithm.ECDSA_SHA256)
    # closing one store did not log out the others
    hsm.store.public_key("shared").verify(hsm.store.sign("shared", b"x", SignatureAlgorithm.ECDSA_SHA256),
                                          b"x", ec.ECDSA(hashes.SHA256()))


def test_softhsm_slot_selection(hsm: Hsm) -> None:
    import pkcs11

    slot = pkcs11.lib(hsm.module).get_token(token_label=TOKEN).slot.slot_id
    with Pkcs11KeyStore(hsm.module, TOKEN, USER_PIN, slot=slot) as store:
        assert store.token_label == TOKEN
    with pytest.raises(KeyStoreError, match="not 'other'"):
        Pkcs11KeyStore(hsm.module, "other", USER_PIN, slot=slot)


def test_keystore_from_environment_with_pkcs11(hsm: Hsm) -> None:
    store = keystore_from_environment({MODULE_ENV: hsm.module, TOKEN_ENV: TOKEN, PIN_ENV: USER_PIN})
    assert isinstance(store, Pkcs11KeyStore)
    try:
        store.generate_ec_key("from-env", Curve.P256)
        assert hsm.store.has_key("from-env")
    finally:
        store.close()


def test_the_pin_is_never_shown(hsm: Hsm, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with Pkcs11KeyStore(hsm.module, TOKEN, USER_PIN) as store:
        store.generate_ec_key("quiet", Curve.P256)
        store.sign("quiet", b"x", SignatureAlgorithm.ECDSA_SHA256)
        assert USER_PIN not in repr(store)
    with pytest.raises(KeyStoreError) as failure:
        Pkcs11KeyStore(hsm.module, PIN_TOKEN, "secret-wrong-pin")
    assert "secret-wrong-pin" not in str(failure.value)
    assert caplog.records and USER_PIN not in caplog.text and "secret-wrong-pin" not in caplog.text


def test_softhsm_init_script_refuses_bad_use(hsm: Hsm, tmp_path: Path) -> None:
    again = _init_token(hsm.directory, TOKEN, hsm.module)
    assert again.returncode == 1 and "already exists" in again.stderr
    no_pins = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "t")],
                             env={k: v for k, v in os.environ.items() if "PIN" not in k},
                             capture_output=True, text=True, check=False, timeout=60)
    assert no_pins.returncode == 2 and "NEWEID_PKCS11_SO_PIN" in no_pins.stderr
    conf = (hsm.directory / "softhsm2.conf").read_text()
    assert f"directories.tokendir = {hsm.directory / 'tokens'}" in conf
    assert (hsm.directory / "softhsm2.conf").stat().st_mode & 0o077 == 0
