"""Key stores for the PKI's private keys: one interface, software and PKCS#11 implementations.

A signer never touches a private key object: it asks the store to ``sign(label, data, algorithm)`` and
to tell it the ``public_key(label)``. That is exactly what a PKCS#11 token (SoftHSM2, a real HSM) offers
(C_FindObjects by CKA_LABEL, C_Sign with CKM_ECDSA_SHA512, C_GetAttributeValue of CKA_EC_POINT), so an
HSM-backed store (:class:`neweid.pki.pkcs11_keystore.Pkcs11KeyStore`) can replace :class:`FileKeyStore`
without touching the CA code.

EC keys are the profile's keys (``generate_ec_key``, ``public_key``). RSA keys (the citizen certificates'
RSA-2048) are an addition: ``generate_rsa_key``, ``verifying_key`` (EC or RSA public key) and the
``RSA_PKCS1_*`` signature algorithms (PKCS#1 v1.5). RSA-PSS is not offered: its AlgorithmIdentifier needs
parameters, and a signature algorithm here is named by its parameterless asn1crypto name.

:class:`FileKeyStore` keeps each key as ``<label>.key.pem``: PKCS#8 PEM encrypted with the caller's
passphrase (``BestAvailableEncryption``), file mode 0600 in a directory of mode 0700. The passphrase comes
from the caller; :func:`passphrase_from_environment` reads ``NEWEID_KEYSTORE_PASSPHRASE`` and falls back
to :data:`TEST_PKI_PASSPHRASE`, which is public and fit **only for test PKIs**.
"""

from __future__ import annotations

import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from neweid.pki.errors import KeyStoreError

__all__ = [
    "PASSPHRASE_ENV",
    "RSA_KEY_SIZES",
    "TEST_PKI_PASSPHRASE",
    "Curve",
    "FileKeyStore",
    "KeyHandle",
    "KeyStore",
    "KeyStoreError",
    "KeyStoreSigner",
    "PublicKey",
    "RsaKeyHandle",
    "SignatureAlgorithm",
    "passphrase_from_environment",
]

_log = logging.getLogger(__name__)

PASSPHRASE_ENV = "NEWEID_KEYSTORE_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
TEST_PKI_PASSPHRASE = b"neweid-test-pki-not-secret"  # public: for test PKIs only
RSA_KEY_SIZES = (2048, 3072, 4096)

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
"""A public key a store can hold: EC (the profile's keys) or RSA."""
_PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class Curve(StrEnum):
    """Named curves a key store can generate (value: the SEC 2 name)."""

    P256 = "secp256r1"
    P384 = "secp384r1"
    P521 = "secp521r1"

    def ec_curve(self) -> ec.EllipticCurve:
        if self is Curve.P256:
            return ec.SECP256R1()
        if self is Curve.P384:
            return ec.SECP384R1()
        return ec.SECP521R1()


class SignatureAlgorithm(StrEnum):
    """Signature mechanisms; the value is the X.509/CMS algorithm name used by asn1crypto."""

    ECDSA_SHA256 = "sha256_ecdsa"
    ECDSA_SHA384 = "sha384_ecdsa"
    ECDSA_SHA512 = "sha512_ecdsa"
    RSA_PKCS1_SHA256 = "sha256_rsa"
    RSA_PKCS1_SHA384 = "sha384_rsa"
    RSA_PKCS1_SHA512 = "sha512_rsa"

    def hash(self) -> hashes.HashAlgorithm:
        if self in (SignatureAlgorithm.ECDSA_SHA256, SignatureAlgorithm.RSA_PKCS1_SHA256):
            return hashes.SHA256()
        if self in (SignatureAlgorithm.ECDSA_SHA384, SignatureAlgorithm.RSA_PKCS1_SHA384):
            return hashes.SHA384()
        return hashes.SHA512()

    @property
    def is_rsa(self) -> bool:
        """Whether this is an RSA (PKCS#1 v1.5) algorithm rather than ECDSA."""
        return self.value.endswith("_rsa")


@dataclass(frozen=True)
class KeyHandle:
    """A reference to a private key held by a store, and its public key (DER SubjectPublicKeyInfo)."""

    label: str
    curve: Curve
    public_key_der: bytes

    def public_key(self) -> ec.EllipticCurvePublicKey:
        key = serialization.load_der_public_key(self.public_key_der)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise KeyStoreError(f"key {self.label!r} is not an EC key")
        return key


@dataclass(frozen=True)
class RsaKeyHandle:
    """A reference to an RSA private key held by a store, and its public key (DER SubjectPublicKeyInfo)."""

    label: str
    bits: int
    public_key_der: bytes

    def public_key(self) -> rsa.RSAPublicKey:
        key = serialization.load_der_public_key(self.public_key_der)
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyStoreError(f"key {self.label!r} is not an RSA key")
        return key


def check_rsa_key_size(bits: int) -> int:
    """``bits`` if it is one of :data:`RSA_KEY_SIZES`, else :class:`KeyStoreError`."""
    if type(bits) is not int or bits not in RSA_KEY_SIZES:
        raise KeyStoreError(f"RSA key size {bits!r} not supported (one of {RSA_KEY_SIZES})")
    return bits


def rsa_handle(label: str, key: PublicKey) -> RsaKeyHandle:
    """The :class:`RsaKeyHandle` of ``key`` (:class:`KeyStoreError` if it is not RSA)."""
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyStoreError(f"key {label!r} is not an RSA key")
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return RsaKeyHandle(label, key.key_size, der)


class KeyStore(ABC):
    """Private keys addressed by label. Signatures are DER ECDSA-Sig-Value (as X.509 and CMS use)."""

    @abstractmethod
    def generate_ec_key(self, label: str, curve: Curve = Curve.P521) -> KeyHandle:
        """Create a new key pair under ``label``; :class:`KeyStoreError` if the label is taken."""

    @abstractmethod
    def sign(self, label: str, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """Sign ``data`` (the message, hashed by the store) with the key ``label``."""

    @abstractmethod
    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        """The public key of ``label``; :class:`KeyStoreError` if there is none."""

    @abstractmethod
    def has_key(self, label: str) -> bool:
        """Whether a key ``label`` exists."""

    def generate_rsa_key(self, label: str, bits: int = 2048) -> RsaKeyHandle:
        """Create a new RSA key pair (public exponent 65537) under ``label``; stores that hold only EC keys
        raise :class:`KeyStoreError`."""
        raise KeyStoreError(f"{type(self).__name__} cannot generate RSA keys")

    def verifying_key(self, label: str) -> PublicKey:
        """The public key of ``label``, EC or RSA (``public_key`` is for EC keys only)."""
        return self.public_key(label)

    def handle(self, label: str) -> KeyHandle:
        """The :class:`KeyHandle` of an existing key."""
        key = self.public_key(label)
        curve = Curve(key.curve.name)
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return KeyHandle(label, curve, der)


@dataclass(frozen=True)
class KeyStoreSigner:
    """A signing key as the CA and Document Signer code see it: a store, a label and an algorithm."""

    store: KeyStore
    label: str
    algorithm: SignatureAlgorithm = SignatureAlgorithm.ECDSA_SHA512

    def sign(self, data: bytes) -> bytes:
        return self.store.sign(self.label, data, self.algorithm)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.store.public_key(self.label)

    def verifying_key(self) -> PublicKey:
        return self.store.verifying_key(self.label)


def passphrase_from_environment(environ: Mapping[str, str] | None = None) -> bytes:
    """``NEWEID_KEYSTORE_PASSPHRASE`` if set and not empty, else the public test-PKI passphrase."""
    env = os.environ if environ is None else environ
    value = env.get(PASSPHRASE_ENV, "")
    if value:
        return value.encode("utf-8")
    _log.warning("%s not set: using the public test-PKI passphrase", PASSPHRASE_ENV)
    return TEST_PKI_PASSPHRASE


_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class FileKeyStore(KeyStore):
    """Keys as passphrase-encrypted PKCS#8 PEM files (mode 0600) in ``directory`` (mode 0700)."""

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        if not passphrase:
            raise KeyStoreError("a key store passphrase must not be empty")
        self._directory = Path(directory)
        self._passphrase = bytes(passphrase)
        self._cache: dict[str, _PrivateKey] = {}

    def __repr__(self) -> str:  # never show the passphrase
        return f"FileKeyStore({str(self._directory)!r})"

    @property
    def directory(self) -> Path:
        return self._directory

    def _path(self, label: str) -> Path:
        if not isinstance(label, str) or not _LABEL.fullmatch(label):
            raise KeyStoreError(f"invalid key label {label!r} (letters, digits, '.', '_', '-'; max 64)")
        return self._directory / f"{label}.key.pem"

    def has_key(self, label: str) -> bool:
        return self._path(label).is_file()

    def generate_ec_key(self, label: str, curve: Curve = Curve.P521) -> KeyHandle:
        path = self._path(label)
        self._write_new_key(label, path, ec.generate_private_key(Curve(curve).ec_curve()))
        _log.info("generated %s key %r in %s", curve.name, label, self._directory)
        return self.handle(label)

    def generate_rsa_key(self, label: str, bits: int = 2048) -> RsaKeyHandle:
        path = self._path(label)
        key = rsa.generate_private_key(public_exponent=65537, key_size=check_rsa_key_size(bits))
        self._write_new_key(label, path, key)
        _log.info("generated RSA-%d key %r in %s", bits, label, self._directory)
        return rsa_handle(label, key.public_key())

    def _write_new_key(self, label: str, path: Path, key: _PrivateKey) -> None:
        try:
            self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise KeyStoreError(f"cannot create key directory {self._directory}: {exc.strerror}") from exc
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError as exc:
            raise KeyStoreError(f"a key labelled {label!r} already exists") from exc
        except OSError as exc:
            raise KeyStoreError(f"cannot write key {label!r}: {exc.strerror}") from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise KeyStoreError(f"cannot write key {label!r}: {exc.strerror}") from exc
        self._cache[label] = key

    def _private_key(self, label: str) -> _PrivateKey:
        cached = self._cache.get(label)
        if cached is not None:
            return cached
        path = self._path(label)
        try:
            pem = path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyStoreError(f"no key labelled {label!r}") from exc
        except OSError as exc:
            raise KeyStoreError(f"cannot read key {label!r}: {exc.strerror}") from exc
        try:
            key = serialization.load_pem_private_key(pem, password=self._passphrase)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise KeyStoreError(f"cannot unlock key {label!r}: wrong passphrase or damaged file") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError(f"key {label!r} is neither an EC nor an RSA key")
        self._cache[label] = key
        return key

    def sign(self, label: str, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        key = self._private_key(label)
        algorithm = SignatureAlgorithm(algorithm)
        if isinstance(key, rsa.RSAPrivateKey) and algorithm.is_rsa:
            return key.sign(bytes(data), padding.PKCS1v15(), algorithm.hash())
        if isinstance(key, ec.EllipticCurvePrivateKey) and not algorithm.is_rsa:
            return key.sign(bytes(data), ec.ECDSA(algorithm.hash()))
        raise KeyStoreError(f"key {label!r} cannot sign with {algorithm.value}")

    def public_key(self, label: str) -> ec.EllipticCurvePublicKey:
        key = self._private_key(label)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyStoreError(f"key {label!r} is not an EC key")
        return key.public_key()

    def verifying_key(self, label: str) -> PublicKey:
        return self._private_key(label).public_key()
