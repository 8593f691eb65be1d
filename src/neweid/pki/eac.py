"""The EAC PKI of the New eID (PKI-5): CVCA → Document Verifiers → terminals, as CV certificates
(docs/eac-profile.md).

- CVCA: P-521, id-TA-ECDSA-SHA-512, domain parameters in the certificate, CHAT role CVCA with every right;
  CHR ``TWCVCA<nnnnn>``. :meth:`EacPki.link` rolls the key over: a new self-signed CVCA certificate (for
  cards made from now on) and a **link certificate** (the new key signed by the old one, CAR = the old
  CHR) that cards holding the old trust point verify in TA to learn the new one.
- DVs: role official (government agencies; their certificates advance the chip's date) or non-official,
  rights a subset of the CVCA's; CHR ``TWDV<NAME><nnnnn>``.
- Terminals: role terminal, rights a subset of the DV's; CHR ``TW<NAME><nnnnn>``. The key is a software
  key handed over in the terminal's directory, or any :class:`~neweid.crypto.ta.TerminalSigner` (an HSM).

Every issuance checks that the issuer is valid today, that the child never outlives its issuer and that
rights only narrow. Layout, inside the test PKI directory of :mod:`neweid.pki.testpki` (created first if
absent)::

    DIR/eac/manifest.json   {"format": "neweid-eac-pki", "version": 1, "country": "TW",
                             "cvcas": [{"chr", "certificate", "link", "key"}...],
                             "dvs": {NAME: {"role", "rights", "sequence", "terminals",
                                            "current": {"chr", "certificate", "key", "cvca"}}}}
    DIR/eac/cvca/*.cvcert, DIR/eac/dv/*.cvcert     the certificates (binary)
    DIR/eac/keys/                                  FileKeyStore (or the KeyStore given, e.g. an HSM)

A terminal directory (:class:`TerminalCredentials`) holds ``manifest.json`` (CHR, DV, rights, expiry,
file names), the DV and terminal certificates (``.cvcert``), any CVCA link certificates, and the
terminal key ``terminal.key.pem`` (PKCS#8 PEM, mode 0600, unencrypted unless a passphrase is given).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from neweid.crypto.aa import der_to_plain
from neweid.crypto.cvc import (
    CvKey,
    PlainSigner,
    cv_public_key_from_crypto,
    sign_cv_certificate,
    verify_cv_chain,
)
from neweid.crypto.ec import NIST_P521
from neweid.crypto.errors import CryptoError
from neweid.crypto.ta import SoftwareTerminalSigner, TerminalSigner
from neweid.formats.chat import ALL_RIGHTS, FIELD_RIGHTS, NeidRight, Role
from neweid.formats.cvc import (
    ID_TA_ECDSA_SHA_512,
    PROFILE_ID,
    Chat,
    CvCertificate,
    CvCertificateBody,
    CvcFormatError,
    decode_cv_certificate,
    encode_cv_certificate,
)
from neweid.pki.errors import KeyStoreError, PkiError
from neweid.pki.keystore import (
    Curve,
    FileKeyStore,
    KeyStore,
    KeyStoreSigner,
    SignatureAlgorithm,
    passphrase_from_environment,
)
from neweid.pki.testpki import TestPki

__all__ = [
    "CVCA_DAYS",
    "DV_DAYS",
    "EacIssuanceError",
    "EacPki",
    "EacPkiError",
    "KeyStoreTerminalSigner",
    "TerminalCredentials",
    "load_cvca_certificates",
]

_log = logging.getLogger(__name__)

_FORMAT, _TERMINAL_FORMAT, _VERSION = "neweid-eac-pki", "neweid-eac-terminal", 1
SUBDIR = "eac"
MANIFEST = "manifest.json"
COUNTRY = "TW"
CVCA_DAYS = 3 * 365
DV_DAYS = 180
TERMINAL_DAYS = 30
_NAME = re.compile(r"[A-Z0-9]{1,7}")
_KEY_FILE = "terminal.key.pem"
_ALGORITHM = ID_TA_ECDSA_SHA_512


class EacPkiError(PkiError):
    """The EAC PKI directory or a terminal directory is missing, damaged or unusable."""


class EacIssuanceError(EacPkiError):
    """A certificate may not be issued: expired issuer, a child outliving its issuer, widened rights,
    an unknown DV or a bad name."""


def _today(now: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(now, datetime.datetime):
        if now.tzinfo is None:
            raise EacIssuanceError("now must be a timezone-aware datetime")
        return now.astimezone(datetime.UTC).date()
    if isinstance(now, datetime.date):
        return now
    raise EacIssuanceError("now must be a date or an aware datetime")


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_certificate(path: Path) -> CvCertificate:
    try:
        return decode_cv_certificate(path.read_bytes())
    except OSError as exc:
        raise EacPkiError(f"cannot read {path.name}: {exc.strerror}") from exc
    except CvcFormatError as exc:
        raise EacPkiError(f"{path.name} is not a CV certificate: {exc}") from exc


def _check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 36500:
        raise EacIssuanceError(f"validity must be 1..36500 days, not {days!r}")
    return days


def _validity(issuer: CvCertificate | None, today: datetime.date, days: int, what: str
              ) -> tuple[datetime.date, datetime.date]:
    expiry = today + datetime.timedelta(days=_check_days(days) - 1)  # valid `days` days, today included
    if expiry.year > 2099:
        raise EacIssuanceError(f"the {what} would expire after 2099")
    if issuer is not None:
        if not issuer.body.effective <= today <= issuer.body.expiry:
            raise EacIssuanceError(f"the issuer {issuer.chr} is not valid on {today} (valid "
                                   f"{issuer.body.effective} to {issuer.body.expiry})")
        if expiry > issuer.body.expiry:
            raise EacIssuanceError(f"the {what} would expire on {expiry}, after its issuer {issuer.chr} "
                                   f"({issuer.body.expiry}): give at most "
                                   f"{(issuer.body.expiry - today).days + 1} days")
    return today, expiry


def _check_narrowing(rights: NeidRight, issuer: CvCertificate, what: str) -> NeidRight:
    rights = NeidRight(int(rights))
    extra = rights & ~issuer.body.chat.rights & ALL_RIGHTS
    if extra:
        names = ", ".join(r.name or "" for r in NeidRight if r and r in extra)
        raise EacIssuanceError(f"the {what} may not have rights its issuer {issuer.chr} lacks: {names}")
    return rights


def _name(name: str, what: str) -> str:
    upper = name.strip().upper() if isinstance(name, str) else ""
    if not _NAME.fullmatch(upper):
        raise EacIssuanceError(f"{what} name {name!r}: 1-7 letters or digits")
    return upper


def _keystore_signer(store: KeyStore, label: str) -> PlainSigner:
    signer = KeyStoreSigner(store, label, SignatureAlgorithm.ECDSA_SHA512)

    def sign(data: bytes) -> bytes:
        return der_to_plain(signer.sign(data), NIST_P521.order_byte_len)

    return sign


@dataclass(frozen=True)
class KeyStoreTerminalSigner:
    """A :class:`~neweid.crypto.ta.TerminalSigner` whose P-521 key lives in a :class:`KeyStore` (a file
    store or a PKCS#11 token): the private key never leaves the store."""

    store: KeyStore
    label: str

    def sign(self, data: bytes) -> bytes:
        return _keystore_signer(self.store, self.label)(data)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.store.public_key(self.label)


# --- terminal credentials -------------------------------------------------------------------------


@dataclass(frozen=True)
class TerminalCredentials:
    """A terminal's CV chain (DV certificate, terminal certificate), its key, and the CVCA link
    certificates (oldest first) that lead from older trust points to the DV's CVCA. Satisfies the
    terminal's ``TerminalAuthenticator`` (``chain`` and ``sign``)."""

    chain: tuple[bytes, ...]
    signer: TerminalSigner
    links: tuple[bytes, ...] = ()
    _decoded: tuple[CvCertificate, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            decoded = tuple(decode_cv_certificate(bytes(c)) for c in self.chain)
            for link in self.links:
                decode_cv_certificate(bytes(link))
        except CvcFormatError as exc:
            raise EacPkiError(f"bad terminal chain: {exc}") from exc
        if len(decoded) != 2 or decoded[1].car != decoded[0].chr:
            raise EacPkiError("a terminal chain is the DV certificate then the terminal certificate")
        object.__setattr__(self, "chain", tuple(bytes(c) for c in self.chain))
        object.__setattr__(self, "links", tuple(bytes(c) for c in self.links))
        object.__setattr__(self, "_decoded", decoded)

    @property
    def certificate(self) -> CvCertificate:
        return self._decoded[1]

    @property
    def dv_certificate(self) -> CvCertificate:
        return self._decoded[0]

    @property
    def chr(self) -> str:
        return self.certificate.chr

    @property
    def rights(self) -> NeidRight:
        """The AND of the DV and terminal rights (the CVCA has every right)."""
        return self.certificate.body.chat.rights & self.dv_certificate.body.chat.rights

    def sign(self, data: bytes) -> bytes:
        return self.signer.sign(data)

    def save(self, directory: Path, *, passphrase: bytes | None = None) -> None:
        """Write the credentials to a new or empty ``directory`` (mode 0700). A software key is written
        as PKCS#8 PEM, mode 0600, encrypted with ``passphrase`` if given; another signer (an HSM key) is
        not exported and must be given again to :meth:`load`."""
        directory = Path(directory)
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if any(directory.iterdir()):
                raise EacPkiError(f"{directory} is not empty: terminal credentials go to a new directory")
            names = [f"{c.chr}.cvcert" for c in self._decoded]
            for name, der in zip(names, self.chain, strict=True):
                _write_atomic(directory / name, der)
            link_names = [f"link-{i + 1}.cvcert" for i in range(len(self.links))]
            for name, der in zip(link_names, self.links, strict=True):
                _write_atomic(directory / name, der)
            key_name: str | None = None
            if isinstance(self.signer, SoftwareTerminalSigner):
                encryption: serialization.KeySerializationEncryption = (
                    serialization.BestAvailableEncryption(passphrase) if passphrase
                    else serialization.NoEncryption())
                pem = self.signer.private_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
                _write_atomic(directory / _KEY_FILE, pem, 0o600)
                key_name = _KEY_FILE
            manifest = {
                "format": _TERMINAL_FORMAT, "version": _VERSION, "chr": self.chr,
                "dv": self.dv_certificate.chr, "cvca": self.dv_certificate.car,
                "rights": int(self.rights),
                "fields": [n for n, r in FIELD_RIGHTS.items() if r in self.rights],
                "effective": self.certificate.body.effective.isoformat(),
                "expiry": self.certificate.body.expiry.isoformat(),
                "chain": names, "links": link_names, "key": key_name,
            }
            _write_atomic(directory / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8") + b"\n")
        except OSError as exc:
            raise EacPkiError(f"cannot write terminal credentials to {directory}: {exc.strerror}") from exc
        _log.info("saved terminal credentials %s in %s", self.chr, directory)

    @classmethod
    def load(cls, directory: Path, *, passphrase: bytes | None = None,
             signer: TerminalSigner | None = None) -> TerminalCredentials:
        """Read credentials written by :meth:`save`; ``signer`` replaces (or supplies) the key."""
        directory = Path(directory)
        try:
            manifest: Any = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != _TERMINAL_FORMAT or manifest.get("version") != _VERSION:
                raise EacPkiError(f"{directory} does not hold version-{_VERSION} terminal credentials")
            chain = tuple((directory / str(n)).read_bytes() for n in manifest["chain"])
            links = tuple((directory / str(n)).read_bytes() for n in manifest.get("links", []))
            key_name = manifest.get("key")
            if signer is None:
                if not key_name:
                    raise EacPkiError(f"{directory} holds no terminal key: give the signer (HSM key)")
                signer = _load_key(directory / str(key_name), passphrase)
        except EacPkiError:
            raise
        except FileNotFoundError as exc:
            raise EacPkiError(f"{directory} does not hold terminal credentials ({Path(exc.filename).name} "
                              "missing)") from exc
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EacPkiError(f"damaged terminal credentials in {directory}: {exc}") from exc
        credentials = cls(chain, signer, links)
        if not _same_key(signer.public_key(), credentials.certificate):
            raise EacPkiError(f"the key in {directory} does not match the certificate {credentials.chr}")
        return credentials


def _load_key(path: Path, passphrase: bytes | None) -> SoftwareTerminalSigner:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase or None)
    except (ValueError, TypeError) as exc:
        raise EacPkiError(f"cannot load the terminal key {path.name}: wrong passphrase or damaged "
                          "file") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise EacPkiError(f"{path.name} is not an EC key")
    return SoftwareTerminalSigner(key, _ALGORITHM)


def _same_key(key: ec.EllipticCurvePublicKey, cert: CvCertificate) -> bool:
    try:
        return cv_public_key_from_crypto(key, cert.body.public_key.oid).point == cert.body.public_key.point
    except CryptoError:
        return False


# --- the PKI --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cvca:
    certificate: CvCertificate
    key: str  # key-store label
    link: CvCertificate | None  # signed by the previous CVCA


@dataclass(frozen=True)
class _Dv:
    name: str
    role: Role
    rights: NeidRight
    sequence: int
    terminals: int
    certificate: CvCertificate
    key: str


def load_cvca_certificates(directory: Path) -> list[bytes]:
    """The encoded CVCA certificates of the EAC PKI under ``directory`` (oldest first; the last one is
    the current trust point), without unlocking any key: what production installs on new cards."""
    manifest = _read_manifest(Path(directory) / SUBDIR)
    base = Path(directory) / SUBDIR
    try:
        return [(base / str(c["certificate"])).read_bytes() for c in manifest["cvcas"]]
    except (OSError, KeyError, TypeError) as exc:
        raise EacPkiError(f"damaged EAC PKI in {base}: {exc}") from exc


def _read_manifest(base: Path) -> Any:
    try:
        manifest: Any = json.loads((base / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EacPkiError(f"no EAC PKI in {base.parent} (run `neweid pki eac init`)") from exc
    except (OSError, ValueError) as exc:
        raise EacPkiError(f"damaged EAC PKI manifest in {base}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT \
            or manifest.get("version") != _VERSION:
        raise EacPkiError(f"{base / MANIFEST} is not a version-{_VERSION} EAC PKI manifest")
    return manifest


class EacPki:
    """The CVCA, DVs and their keys kept under ``DIR/eac``. Create or open with :meth:`open_or_create`.

    ``now`` (given at opening, overridable per call) is the issuing date; certificates are effective
    from its UTC day."""

    def __init__(self, directory: Path, store: KeyStore, cvcas: list[_Cvca], dvs: dict[str, _Dv],
                 now: datetime.datetime | datetime.date) -> None:
        self._directory = Path(directory)
        self._store = store
        self._cvcas = cvcas
        self._dvs = dvs
        self._now = now

    @property
    def directory(self) -> Path:
        """The EAC directory (``DIR/eac``)."""
        return self._directory

    @classmethod
    def exists(cls, directory: Path) -> bool:
        return (Path(directory) / SUBDIR / MANIFEST).is_file()

    @classmethod
    def open_or_create(cls, directory: Path, *, now: datetime.datetime | datetime.date,
                       passphrase: bytes | None = None, store: KeyStore | None = None,
                       cvca_days: int = CVCA_DAYS) -> EacPki:
        """Open the EAC PKI of the test PKI in ``directory``, creating both if absent."""
        directory = Path(directory)
        secret = passphrase_from_environment() if passphrase is None else passphrase
        if not isinstance(now, datetime.datetime):
            now_dt = datetime.datetime.combine(_today(now), datetime.time(), datetime.UTC)
        else:
            now_dt = now
        TestPki.open_or_create(directory, now=now_dt, passphrase=secret)
        base = directory / SUBDIR
        key_store = store if store is not None else FileKeyStore(base / "keys", secret)
        if (base / MANIFEST).is_file():
            return cls._open(base, key_store, now)
        pki = cls(base, key_store, [], {}, now)
        try:
            for sub in (base, base / "cvca", base / "dv"):
                sub.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise EacPkiError(f"cannot create {base}: {exc.strerror}") from exc
        pki._new_cvca(cvca_days, _today(now))
        _log.info("created EAC PKI in %s", base)
        return pki

    @classmethod
    def _open(cls, base: Path, store: KeyStore, now: datetime.datetime | datetime.date) -> EacPki:
        manifest = _read_manifest(base)
        try:
            cvcas = [_Cvca(_read_certificate(base / str(c["certificate"])), str(c["key"]),
                           None if c.get("link") is None else _read_certificate(base / str(c["link"])))
                     for c in manifest["cvcas"]]
            dvs = {}
            for name, d in dict(manifest["dvs"]).items():
                current = d["current"]
                certificate = _read_certificate(base / str(current["certificate"]))
                dvs[str(name)] = _Dv(str(name), Role[str(d["role"])], NeidRight(int(d["rights"])),
                                     int(d["sequence"]), int(d["terminals"]), certificate,
                                     str(current["key"]))
        except EacPkiError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EacPkiError(f"damaged EAC PKI manifest in {base}: {exc}") from exc
        if not cvcas:
            raise EacPkiError(f"the EAC PKI in {base} has no CVCA")
        return cls(base, store, cvcas, dvs, now)

    def _save(self) -> None:
        manifest = {
            "format": _FORMAT, "version": _VERSION, "country": COUNTRY,
            "cvcas": [{"chr": c.certificate.chr, "certificate": f"cvca/{c.certificate.chr}.cvcert",
                       "link": None if c.link is None else f"cvca/{c.certificate.chr}-link.cvcert",
                       "key": c.key} for c in self._cvcas],
            "dvs": {d.name: {"role": d.role.name, "rights": int(d.rights), "sequence": d.sequence,
                             "terminals": d.terminals,
                             "current": {"chr": d.certificate.chr,
                                         "certificate": f"dv/{d.certificate.chr}.cvcert",
                                         "key": d.key, "cvca": d.certificate.car}}
                    for d in self._dvs.values()},
        }
        try:
            _write_atomic(self._directory / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8") + b"\n")
        except OSError as exc:
            raise EacPkiError(f"cannot write {self._directory / MANIFEST}: {exc.strerror}") from exc

    def _write_certificate(self, relative: str, cert: CvCertificate) -> None:
        try:
            _write_atomic(self._directory / relative, encode_cv_certificate(cert))
        except OSError as exc:
            raise EacPkiError(f"cannot write {relative}: {exc.strerror}") from exc

    def _generate_key(self, label: str) -> ec.EllipticCurvePublicKey:
        try:
            return self._store.generate_ec_key(label, Curve.P521).public_key()
        except KeyStoreError as exc:
            raise EacPkiError(f"cannot generate the key {label}: {exc}") from exc

    # -- CVCA ------------------------------------------------------------------------------------
    @property
    def cvca_certificate(self) -> CvCertificate:
        """The current CVCA certificate (self-signed): the trust point of new cards."""
        return self._cvcas[-1].certificate

    @property
    def cvca_certificates(self) -> list[CvCertificate]:
        """Every CVCA certificate, oldest first."""
        return [c.certificate for c in self._cvcas]

    @property
    def link_certificates(self) -> list[CvCertificate]:
        """The CVCA link certificates, oldest first (each signed by the CVCA before it)."""
        return [c.link for c in self._cvcas if c.link is not None]

    def _new_cvca(self, days: int, today: datetime.date) -> _Cvca:
        sequence = len(self._cvcas) + 1
        chr_ = f"{COUNTRY}CVCA{sequence:05d}"
        previous = self._cvcas[-1] if self._cvcas else None
        effective, expiry = _validity(None, today, days, "CVCA certificate")
        if previous is not None and not previous.certificate.body.effective <= today \
                <= previous.certificate.body.expiry:
            raise EacIssuanceError(f"the current CVCA {previous.certificate.chr} is not valid on {today}: "
                                   "a link certificate needs its key")
        label = f"cvca-{chr_}"
        public = self._generate_key(label)
        key = cv_public_key_from_crypto(public, _ALGORITHM, with_domain=True)
        chat = Chat.neid(Role.CVCA, ALL_RIGHTS)
        body = CvCertificateBody(PROFILE_ID, chr_, key, chr_, chat, effective, expiry)
        cert = sign_cv_certificate(body, _keystore_signer(self._store, label))
        link = None
        if previous is not None:
            link_body = CvCertificateBody(PROFILE_ID, previous.certificate.chr, key, chr_, chat, effective,
                                          expiry)
            link = sign_cv_certificate(link_body, _keystore_signer(self._store, previous.key))
            self._write_certificate(f"cvca/{chr_}-link.cvcert", link)
        self._write_certificate(f"cvca/{chr_}.cvcert", cert)
        entry = _Cvca(cert, label, link)
        self._cvcas.append(entry)
        self._save()
        return entry

    def link(self, *, days: int = CVCA_DAYS, now: datetime.datetime | datetime.date | None = None
             ) -> tuple[CvCertificate, CvCertificate]:
        """Roll the CVCA key over: returns (new self-signed CVCA certificate, link certificate)."""
        entry = self._new_cvca(days, _today(self._now if now is None else now))
        assert entry.link is not None  # a second CVCA always has one
        _log.info("CVCA rollover to %s", entry.certificate.chr)
        return entry.certificate, entry.link

    def trust_point(self) -> CvKey:
        """The current CVCA as a verification key."""
        return CvKey.from_cvca(self.cvca_certificate)

    # -- DVs -------------------------------------------------------------------------------------
    def dv(self, name: str) -> CvCertificate:
        """The current certificate of the DV ``name``."""
        return self._dv(name).certificate

    @property
    def dv_names(self) -> list[str]:
        return sorted(self._dvs)

    def _dv(self, name: str) -> _Dv:
        key = _name(name, "DV")
        if key not in self._dvs:
            raise EacIssuanceError(f"no DV named {key} (issue it first with issue-dv)")
        return self._dvs[key]

    def issue_dv(self, name: str, rights: NeidRight, role: Role = Role.DV_OFFICIAL, days: int = DV_DAYS, *,
                 now: datetime.datetime | datetime.date | None = None) -> CvCertificate:
        """Issue (or renew, with a new key and sequence number) the DV ``name`` under the current CVCA."""
        key_name = _name(name, "DV")
        if role not in (Role.DV_OFFICIAL, Role.DV_NON_OFFICIAL):
            raise EacIssuanceError(f"a DV's role is DV_OFFICIAL or DV_NON_OFFICIAL, not {role!r}")
        cvca = self._cvcas[-1]
        rights = _check_narrowing(rights, cvca.certificate, f"DV {key_name}")
        effective, expiry = _validity(cvca.certificate, _today(self._now if now is None else now), days,
                                      f"DV {key_name} certificate")
        previous = self._dvs.get(key_name)
        sequence = 1 if previous is None else previous.sequence + 1
        chr_ = f"{COUNTRY}DV{key_name}{sequence:05d}"
        label = f"dv-{chr_}"
        key = cv_public_key_from_crypto(self._generate_key(label), _ALGORITHM)
        body = CvCertificateBody(PROFILE_ID, cvca.certificate.chr, key, chr_, Chat.neid(role, rights),
                                 effective, expiry)
        cert = sign_cv_certificate(body, _keystore_signer(self._store, cvca.key))
        self._write_certificate(f"dv/{chr_}.cvcert", cert)
        terminals = 0 if previous is None else previous.terminals
        self._dvs[key_name] = _Dv(key_name, role, rights, sequence, terminals, cert, label)
        self._save()
        _log.info("issued DV certificate %s (%s)", chr_, role.name)
        return cert

    # -- terminals -------------------------------------------------------------------------------
    def issue_terminal(self, dv: str, rights: NeidRight, days: int = TERMINAL_DAYS,
                       out_dir: Path | None = None, *, name: str | None = None,
                       signer: TerminalSigner | None = None,
                       now: datetime.datetime | datetime.date | None = None) -> TerminalCredentials:
        """Issue a terminal certificate under the DV ``dv``; its key is ``signer``'s (an HSM key) or a new
        software P-521 key. With ``out_dir`` the credentials are saved there (see
        :meth:`TerminalCredentials.save`)."""
        entry = self._dv(dv)
        if out_dir is not None and Path(out_dir).exists() and (
                not Path(out_dir).is_dir() or any(Path(out_dir).iterdir())):
            raise EacIssuanceError(f"{out_dir} exists and is not an empty directory")
        mnemonic = _name(name if name is not None else entry.name, "terminal")
        rights = _check_narrowing(rights, entry.certificate, f"terminal of {entry.name}")
        effective, expiry = _validity(entry.certificate, _today(self._now if now is None else now), days,
                                      "terminal certificate")
        if signer is None:
            signer = SoftwareTerminalSigner(ec.generate_private_key(ec.SECP521R1()), _ALGORITHM)
        try:
            key = cv_public_key_from_crypto(signer.public_key(), _ALGORITHM)
        except CryptoError as exc:
            raise EacIssuanceError(f"unusable terminal key: {exc}") from exc
        sequence = entry.terminals + 1
        chr_ = f"{COUNTRY}{mnemonic}{sequence:05d}"
        body = CvCertificateBody(PROFILE_ID, entry.certificate.chr, key, chr_,
                                 Chat.neid(Role.TERMINAL, rights), effective, expiry)
        cert = sign_cv_certificate(body, _keystore_signer(self._store, entry.key))
        self._dvs[entry.name] = _Dv(entry.name, entry.role, entry.rights, entry.sequence, sequence,
                                    entry.certificate, entry.key)
        self._save()
        credentials = TerminalCredentials(
            (encode_cv_certificate(entry.certificate), encode_cv_certificate(cert)), signer,
            tuple(encode_cv_certificate(c) for c in self._links_to(entry.certificate.car)))
        if out_dir is not None:
            credentials.save(Path(out_dir))
        _log.info("issued terminal certificate %s under %s", chr_, entry.certificate.chr)
        return credentials

    def _links_to(self, cvca_chr: str) -> list[CvCertificate]:
        links: list[CvCertificate] = []
        for entry in self._cvcas:
            if entry.link is not None:
                links.append(entry.link)
            if entry.certificate.chr == cvca_chr:
                break
        return links

    def verify_terminal(self, credentials: TerminalCredentials) -> CvKey:
        """Check a terminal's chain against this PKI's CVCAs (through link certificates if needed)."""
        chain = [decode_cv_certificate(c) for c in (*credentials.links, *credentials.chain)]
        first = self._cvcas[0].certificate
        try:
            return verify_cv_chain(chain, CvKey.from_cvca(first))
        except CryptoError as exc:
            raise EacPkiError(f"the terminal chain of {credentials.chr} does not verify: {exc}") from exc
