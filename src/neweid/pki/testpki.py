"""A self-contained test PKI kept in a directory: one CSCA and one Document Signer (PKI-4).

``neweid card new --pki DIR`` calls :meth:`TestPki.open_or_create`: the first call creates the PKI, later
calls load it. Layout of ``DIR`` (mode 0700)::

    manifest.json     {"format": "neweid-test-pki", "version": 1, "created": ISO time,
                       "csca": {"certificate": "csca.pem", "key": "csca"},
                       "document_signer": {"certificate": "document-signer.pem", "key": "document-signer"}}
    csca.pem          CSCA certificate (PEM)
    document-signer.pem
    keys/             FileKeyStore: <label>.key.pem, encrypted PKCS#8, mode 0600

The manifest is written last and atomically, so a directory without one is an unfinished creation (it is
reported, never overwritten silently). The keys are encrypted with the caller's passphrase; by default
``NEWEID_KEYSTORE_PASSPHRASE`` or else the public test passphrase (see :mod:`neweid.pki.keystore`).
Not for production: a production CSCA lives offline in an HSM.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from neweid.pki.csca import Csca
from neweid.pki.document_signer import DocumentSigner
from neweid.pki.errors import CertificateError, KeyStoreError, TestPkiError
from neweid.pki.keystore import FileKeyStore, KeyStoreSigner, SignatureAlgorithm, passphrase_from_environment
from neweid.pki.x509util import RandomSource, require_aware, same_public_key

__all__ = ["TestPki"]

_log = logging.getLogger(__name__)

_FORMAT = "neweid-test-pki"
_VERSION = 1
MANIFEST = "manifest.json"
_CSCA_CERT, _CSCA_KEY = "csca.pem", "csca"
_DS_CERT, _DS_KEY = "document-signer.pem", "document-signer"


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TestPkiError(f"cannot load certificate {path.name}: {exc}") from exc


@dataclass(frozen=True)
class TestPki:
    """A CSCA and a Document Signer kept under ``directory``."""

    __test__ = False  # not a pytest test class

    directory: Path
    csca: Csca
    document_signer: DocumentSigner

    @property
    def csca_certificate(self) -> x509.Certificate:
        return self.csca.certificate

    def export_csca_pem(self) -> bytes:
        """The CSCA certificate as PEM (the trust anchor for Passive Authentication)."""
        return self.csca.certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def open_or_create(
        cls,
        directory: Path,
        *,
        now: datetime.datetime,
        passphrase: bytes | None = None,
        rng: RandomSource = os.urandom,
    ) -> TestPki:
        """Load the test PKI in ``directory``, creating it (certificates valid from ``now``) if absent."""
        directory = Path(directory)
        secret = passphrase_from_environment() if passphrase is None else passphrase
        if (directory / MANIFEST).is_file():
            return cls._open(directory, secret)
        return cls._create(directory, secret, require_aware("now", now), rng)

    @classmethod
    def _create(
        cls, directory: Path, passphrase: bytes, now: datetime.datetime, rng: RandomSource
    ) -> TestPki:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise TestPkiError(f"cannot create {directory}: {exc.strerror}") from exc
        if any(directory.iterdir()):
            raise TestPkiError(f"{directory} is not empty but holds no {MANIFEST}: not a test PKI "
                               "(or an interrupted creation; remove it and retry)")
        store = FileKeyStore(directory / "keys", passphrase)
        csca = Csca.create(store, _CSCA_KEY, not_before=now, common_name="MOI New eID Test CSCA", rng=rng)
        signer = DocumentSigner.create(store, _DS_KEY, csca, not_before=now,
                                       common_name="MOI New eID Test Document Signer 1", rng=rng)
        try:
            _write_atomic(directory / _CSCA_CERT, csca.certificate.public_bytes(serialization.Encoding.PEM))
            _write_atomic(directory / _DS_CERT, signer.certificate.public_bytes(serialization.Encoding.PEM))
            manifest = {
                "format": _FORMAT, "version": _VERSION, "created": now.isoformat(),
                "csca": {"certificate": _CSCA_CERT, "key": _CSCA_KEY},
                "document_signer": {"certificate": _DS_CERT, "key": _DS_KEY},
            }
            _write_atomic(directory / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8") + b"\n")
        except OSError as exc:
            raise TestPkiError(f"cannot write the test PKI in {directory}: {exc.strerror}") from exc
        _log.info("created test PKI in %s", directory)
        return cls(directory, csca, signer)

    @classmethod
    def _open(cls, directory: Path, passphrase: bytes) -> TestPki:
        try:
            manifest: Any = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != _FORMAT or manifest.get("version") != _VERSION:
                raise TestPkiError(f"{directory / MANIFEST} is not a version-{_VERSION} test PKI manifest")
            csca_entry, ds_entry = manifest["csca"], manifest["document_signer"]
            csca_cert = _load_cert(directory / str(csca_entry["certificate"]))
            ds_cert = _load_cert(directory / str(ds_entry["certificate"]))
            csca_label, ds_label = str(csca_entry["key"]), str(ds_entry["key"])
        except TestPkiError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TestPkiError(f"damaged test PKI manifest in {directory}: {exc}") from exc
        store = FileKeyStore(directory / "keys", passphrase)
        try:
            csca = Csca.load(store, csca_label, csca_cert)
            ds_signer = KeyStoreSigner(store, ds_label, SignatureAlgorithm.ECDSA_SHA512)
            ds = DocumentSigner(ds_signer, ds_cert)
            if not same_public_key(ds_signer.public_key(), ds_cert.public_key()):
                raise TestPkiError("the Document Signer key does not match its certificate")
            ds_cert.verify_directly_issued_by(csca_cert)
        except (KeyStoreError, CertificateError) as exc:
            raise TestPkiError(f"cannot open the test PKI in {directory}: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise TestPkiError("the Document Signer certificate is not issued by the CSCA") from exc
        return cls(directory, csca, ds)
