"""The citizen CA hierarchy kept in a CA directory, modelled on MOICA's (PKI-1, PKI-6).

* **Root CA** (stands for the government root over MOICA): self-signed, P-521/SHA-512, CA pathLen 1,
  keyCertSign + cRLSign, 20 years.
* **Issuing CA** (stands for MOICA, 內政部憑證管理中心): issued by the root, CA pathLen 0, keyUsage
  keyCertSign + cRLSign only — its key signs certificates and CRLs and nothing else (PKI-6), 12 years
  (longer than any citizen certificate's 10-year key life).
* **OCSP responder**: a delegated responder certificate issued by the issuing CA: digitalSignature,
  extendedKeyUsage id-kp-OCSPSigning, id-pkix-ocsp-nocheck, short-lived (90 days) and renewed by
  :meth:`CaHierarchy.renew_ocsp_certificate` with the same key.

Layout of the directory (mode 0700)::

    manifest.json       format, version, base URL, certificate files and key labels
    root-ca.pem  issuing-ca.pem  ocsp-responder.pem
    keys/               the FileKeyStore (when the file store is used)
    registry.sqlite3    issued certificates (see registry.py)
    audit.jsonl         lifecycle audit trail (see audit.py)
    publish/ca/*.crt    DER certificates served at the caIssuers URL
    publish/crl/*.crl   the latest full and delta CRLs

The private keys live in whatever :class:`~neweid.pki.keystore.KeyStore` the caller passes (file store
or PKCS#11); the directory only names them by label.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from neweid.pki.ca.errors import CaDirectoryError, Refusal
from neweid.pki.ca.profiles import CaUrls, random_serial
from neweid.pki.errors import PkiError
from neweid.pki.keystore import Curve, KeyStore, KeyStoreSigner, SignatureAlgorithm
from neweid.pki.x509util import add_months, require_aware, same_public_key, sign_certificate

__all__ = [
    "AUDIT_FILE",
    "ISSUING_VALIDITY_MONTHS",
    "MANIFEST",
    "OCSP_VALIDITY_DAYS",
    "REGISTRY_FILE",
    "ROOT_VALIDITY_MONTHS",
    "CaHierarchy",
    "KeyLabels",
    "write_atomic",
]

_log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
REGISTRY_FILE = "registry.sqlite3"
AUDIT_FILE = "audit.jsonl"
_FORMAT, _VERSION = "neweid-citizen-ca", 1
_ROOT, _ISSUING, _OCSP = "root-ca.pem", "issuing-ca.pem", "ocsp-responder.pem"
ROOT_VALIDITY_MONTHS = 20 * 12
ISSUING_VALIDITY_MONTHS = 12 * 12
OCSP_VALIDITY_DAYS = 90
_OCSP_RENEW_BEFORE = datetime.timedelta(days=30)
ORGANISATION = "Ministry of the Interior"


@dataclass(frozen=True)
class KeyLabels:
    """Labels of the three CA keys in the key store."""

    root: str = "citizen-root-ca"
    issuing: str = "citizen-issuing-ca"
    ocsp: str = "citizen-ocsp-responder"


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                         encipher_only=False, decipher_only=False)


def _ski(certificate: x509.Certificate) -> bytes:
    return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def _ocsp_builder(
    public_key: ec.EllipticCurvePublicKey, issuing: x509.Certificate, start: datetime.datetime, serial: int
) -> x509.CertificateBuilder:
    end = min(start + datetime.timedelta(days=OCSP_VALIDITY_DAYS), issuing.not_valid_after_utc)
    return (
        x509.CertificateBuilder()
        .subject_name(_name("MOICA Citizen OCSP Responder"))
        .issuer_name(issuing.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(_ski(issuing), None, None), critical=False)
    )


@dataclass(frozen=True)
class CaHierarchy:
    """Root, issuing CA and OCSP responder certificates, their keys (by label) and the CA directory."""

    directory: Path
    store: KeyStore
    labels: KeyLabels
    urls: CaUrls
    root: x509.Certificate
    issuing: x509.Certificate
    ocsp: x509.Certificate

    @property
    def issuing_signer(self) -> KeyStoreSigner:
        return KeyStoreSigner(self.store, self.labels.issuing, SignatureAlgorithm.ECDSA_SHA512)

    @property
    def ocsp_signer(self) -> KeyStoreSigner:
        return KeyStoreSigner(self.store, self.labels.ocsp, SignatureAlgorithm.ECDSA_SHA512)

    @property
    def registry_path(self) -> Path:
        return self.directory / REGISTRY_FILE

    @property
    def audit_path(self) -> Path:
        return self.directory / AUDIT_FILE

    @property
    def publish_dir(self) -> Path:
        return self.directory / "publish"

    def chain_pem(self) -> bytes:
        """Issuing CA then root, PEM (what ``neweid ca export`` writes)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (self.issuing, self.root))

    @classmethod
    def create(
        cls,
        directory: Path,
        store: KeyStore,
        *,
        now: datetime.datetime,
        urls: CaUrls | None = None,
        labels: KeyLabels | None = None,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> CaHierarchy:
        """Generate the three keys in ``store`` and write a new CA directory (refused if not empty)."""
        directory = Path(directory)
        start = require_aware("now", now)
        urls = urls or CaUrls()
        labels = labels or KeyLabels()
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if any(p.name != "keys" for p in directory.iterdir()):
                raise CaDirectoryError(f"{directory} is not empty: refusing to create a CA there")
            (directory / "publish" / "ca").mkdir(parents=True, exist_ok=True)
            (directory / "publish" / "crl").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CaDirectoryError(f"cannot create {directory}: {exc.strerror}") from exc
        try:
            root_key = store.generate_ec_key(labels.root, Curve.P521).public_key()
            root_name = _name("MOI Citizen Root CA (neweid test)")
            root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key)
            root = sign_certificate(
                x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name).public_key(root_key)
                .serial_number(random_serial(rng)).not_valid_before(start)
                .not_valid_after(add_months(start, ROOT_VALIDITY_MONTHS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
                .add_extension(_ca_usage(), critical=True)
                .add_extension(root_ski, critical=False),
                KeyStoreSigner(store, labels.root, SignatureAlgorithm.ECDSA_SHA512))
            issuing_key = store.generate_ec_key(labels.issuing, Curve.P521).public_key()
            issuing = sign_certificate(
                x509.CertificateBuilder().subject_name(_name("MOICA Citizen Certificate CA (neweid test)"))
                .issuer_name(root_name).public_key(issuing_key).serial_number(random_serial(rng))
                .not_valid_before(start).not_valid_after(add_months(start, ISSUING_VALIDITY_MONTHS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_ca_usage(), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(issuing_key), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier(root_ski.digest, None, None), critical=False)
                .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(urls.base_url + "crl/root.crl")], None, None, None)]),
                    critical=False)
                .add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(urls.root))]),
                    critical=False),
                KeyStoreSigner(store, labels.root, SignatureAlgorithm.ECDSA_SHA512))
            ocsp_key = store.generate_ec_key(labels.ocsp, Curve.P521).public_key()
            ocsp = sign_certificate(_ocsp_builder(ocsp_key, issuing, start, random_serial(rng)),
                                    KeyStoreSigner(store, labels.issuing, SignatureAlgorithm.ECDSA_SHA512))
        except CaDirectoryError:
            raise
        except PkiError as exc:
            raise CaDirectoryError(f"cannot create the CA keys: {exc}") from exc
        hierarchy = cls(directory, store, labels, urls, root, issuing, ocsp)
        hierarchy._write(created=start)
        _log.info("created citizen CA hierarchy in %s", directory)
        return hierarchy

    def _write(self, *, created: datetime.datetime | None = None) -> None:
        pem = serialization.Encoding.PEM
        der = serialization.Encoding.DER
        try:
            write_atomic(self.directory / _ROOT, self.root.public_bytes(pem))
            write_atomic(self.directory / _ISSUING, self.issuing.public_bytes(pem))
            write_atomic(self.directory / _OCSP, self.ocsp.public_bytes(pem))
            write_atomic(self.publish_dir / "ca" / "root-ca.crt", self.root.public_bytes(der))
            write_atomic(self.publish_dir / "ca" / "issuing-ca.crt", self.issuing.public_bytes(der))
            manifest: dict[str, Any] = {
                "format": _FORMAT, "version": _VERSION, "base_url": self.urls.base_url,
                "root": {"certificate": _ROOT, "key": self.labels.root},
                "issuing": {"certificate": _ISSUING, "key": self.labels.issuing},
                "ocsp": {"certificate": _OCSP, "key": self.labels.ocsp},
            }
            path = self.directory / MANIFEST
            if created is not None:
                manifest["created"] = created.isoformat()
            elif path.is_file():
                manifest["created"] = json.loads(path.read_text(encoding="utf-8")).get("created")
            write_atomic(path, json.dumps(manifest, indent=2).encode("utf-8") + b"\n")
        except (OSError, ValueError) as exc:
            raise CaDirectoryError(f"cannot write the CA directory {self.directory}: {exc}") from exc

    @classmethod
    def open(cls, directory: Path, store: KeyStore) -> CaHierarchy:
        """Load the CA in ``directory`` and check that ``store`` holds the matching keys."""
        directory = Path(directory)
        try:
            manifest: Any = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CaDirectoryError(f"{directory} is not a CA directory (no {MANIFEST}; run `neweid ca init`)",
                                   Refusal.BAD_DIRECTORY) from exc
        except (OSError, ValueError) as exc:
            raise CaDirectoryError(f"damaged CA manifest in {directory}") from exc
        try:
            if manifest.get("format") != _FORMAT or manifest.get("version") != _VERSION:
                raise CaDirectoryError(f"{directory / MANIFEST} is not a citizen CA manifest "
                                       f"of version {_VERSION}")
            labels = KeyLabels(str(manifest["root"]["key"]), str(manifest["issuing"]["key"]),
                               str(manifest["ocsp"]["key"]))
            files = [directory / str(manifest[k]["certificate"]) for k in ("root", "issuing", "ocsp")]
            certs = [x509.load_pem_x509_certificate(f.read_bytes()) for f in files]
            urls = CaUrls(str(manifest["base_url"]))
        except CaDirectoryError:
            raise
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CaDirectoryError(f"damaged CA directory {directory}: {exc}") from exc
        root, issuing, ocsp = certs
        try:
            for label, cert in ((labels.root, root), (labels.issuing, issuing), (labels.ocsp, ocsp)):
                if not same_public_key(store.public_key(label), cert.public_key()):
                    raise CaDirectoryError(f"key {label!r} does not belong to its certificate")
            issuing.verify_directly_issued_by(root)
            ocsp.verify_directly_issued_by(issuing)
        except CaDirectoryError:
            raise
        except PkiError as exc:
            raise CaDirectoryError(f"cannot open the CA keys: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise CaDirectoryError("the CA certificates do not chain") from exc
        return cls(directory, store, labels, urls, root, issuing, ocsp)

    def renew_ocsp_certificate(
        self, *, now: datetime.datetime, force: bool = False, rng: Callable[[int], bytes] = os.urandom
    ) -> CaHierarchy:
        """A new responder certificate (same key) if the current one ends within 30 days (or ``force``)."""
        start = require_aware("now", now)
        if not force and self.ocsp.not_valid_after_utc - start > _OCSP_RENEW_BEFORE:
            return self
        key = self.store.public_key(self.labels.ocsp)
        builder = _ocsp_builder(key, self.issuing, start, random_serial(rng))
        ocsp = sign_certificate(builder, self.issuing_signer)
        renewed = replace(self, ocsp=ocsp)
        renewed._write()
        _log.info("renewed the OCSP responder certificate (serial %x)", ocsp.serial_number)
        return renewed
