"""An ISO/IEC 24727-3-style service access layer over one New eID card (table 11 "ISO24727-3-Interface",
API-3): card applications (the zones), connections, sessions, data sets and DSIs (the zones' EFs),
differential identities (DIDs: PACE with CAN/MRZ, PIN1, PIN2, the user code, TA, CA, AA and the four
certificate-zone keys), the cryptographic services and the access control list.

Python names are snake_case; each method's docstring starts with its 24727-3 name. Results are frozen
dataclasses; failures are :class:`~neweid.terminal.iso24727_errors.Iso24727Error` subclasses carrying
the 24727 ``ResultMajor``/``ResultMinor`` (the table is in :mod:`neweid.terminal.iso24727_errors`).

Services the chip has no command for run on the host and say so: Hash (the chip hashes nothing for the
host), Encipher and VerifySignature (public-key operations with the key read from the chip),
VerifyCertificate (X.509 on the host).
"""

from __future__ import annotations

import datetime
import itertools
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from neweid.formats.chat import NeidRight
from neweid.formats.filemap import (
    EF_DIR_FID,
    MASTER_FILES,
    Access,
    FileSpec,
    Zone,
    zone_by_aid,
    zone_spec,
)
from neweid.formats.iso7816 import Ins, KeyRef, PasswordRef, PinRef, StatusWord
from neweid.formats.security_infos import ID_CA_ECDH_AES_CBC_CMAC_256
from neweid.formats.tlv import TlvError, find_tlv, parse_tlvs
from neweid.terminal.certzone import CertificateKey, PublicKey
from neweid.terminal.eac import ChipAuthenticationKey, EacResult, EacTerminal, TerminalAuthenticator
from neweid.terminal.errors import CardStatusError, ZoneClosed
from neweid.terminal.iso24727_errors import (
    AuthenticationFailed,
    InappropriateProtocolForAction,
    IncorrectParameter,
    InternalError,
    InvalidSignatureError,
    Iso24727Error,
    NamedEntityNotFound,
    NoCard,
    PasswordBlocked,
    Result,
    ResultMajor,
    ResultMinor,
    SecurityConditionNotSatisfied,
    UnknownConnectionHandle,
    translate,
    translated,
)
from neweid.terminal.p11_cert import verify_cert
from neweid.terminal.p11_errors import SignatureInvalidError
from neweid.terminal.reader import NewEidReader, PinStatus
from neweid.terminal.transport import Transport

__all__ = [
    "AccessRule",
    "AuthenticationFailed",
    "CardApplication",
    "ConnectionHandle",
    "DataSetInfo",
    "DidAuthenticationResult",
    "DidInfo",
    "DidKind",
    "DidStructure",
    "InappropriateProtocolForAction",
    "IncorrectParameter",
    "InternalError",
    "InvalidSignatureError",
    "Iso24727Error",
    "Iso24727Sal",
    "NamedEntityNotFound",
    "NoCard",
    "PasswordBlocked",
    "Result",
    "ResultMajor",
    "ResultMinor",
    "SecurityConditionNotSatisfied",
    "UnknownConnectionHandle",
    "translate",
]

log = logging.getLogger(__name__)

ID_PACE_ECDH_GM_AES_256 = "0.4.0.127.0.7.2.2.4.2.4"
ID_TA_ECDSA_SHA_512 = "0.4.0.127.0.7.2.2.2.2.5"
ID_PIN_COMPARE = "1.3.162.15480.3.0.9"  # ISO/IEC 24727-3 PIN compare protocol
ID_GENERIC_CRYPTOGRAPHY = "1.3.162.15480.3.0.25"  # ISO/IEC 24727-3 generic cryptography protocol
ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
ID_EC_DH = "1.3.132.1.12"
MF_APPLICATION = "MF"
EF_DIR_SFI = 0x1E
CHALLENGE_LENGTH = 8
MAX_RANDOM = 4096


# -- values ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardApplication:
    """A card application: the master file (``MF``) or one zone, named by its EF.DIR label."""

    name: str
    aid: bytes | None
    zone: Zone | None
    label_zh: str = ""


@dataclass(frozen=True)
class ConnectionHandle:
    """CardApplicationConnect's answer: an opaque handle to one card application."""

    handle: int
    application: str


@dataclass(frozen=True)
class DataSetInfo:
    """A data set (EF) of an application: its name, file id, SFI and what it holds."""

    name: str
    fid: int
    sfi: int
    content: str


class DidKind(Enum):
    PACE = "PACE"
    PIN = "PIN"
    TA = "TA"
    CA = "CA"
    AA = "AA"
    KEY = "key"


@dataclass(frozen=True)
class DidInfo:
    """A differential identity: name, kind, protocol OID, the application it belongs to, and its card
    reference (password reference, PIN reference or key reference)."""

    name: str
    kind: DidKind
    protocol: str
    application: str
    reference: int | None = None
    algorithm: str | None = None  # for keys: the signature / encryption algorithm OID


@dataclass(frozen=True)
class DidStructure:
    """DIDGet's answer: the DID and what the card says about it now (a PIN's state, a key's public
    half)."""

    info: DidInfo
    pin_status: PinStatus | None = None
    public_key: PublicKey | None = None


@dataclass(frozen=True)
class DidAuthenticationResult:
    """DIDAuthenticate's answer; ``rights`` and ``terminal_chr`` after TA, the EAC result after CA."""

    did: str
    authenticated: bool
    rights: NeidRight | None = None
    terminal_chr: str | None = None
    eac: EacResult | None = None


@dataclass(frozen=True)
class AccessRule:
    """One entry of ACLList: an action on a target and the security condition it needs.

    ``condition`` uses the file map's :class:`~neweid.formats.filemap.Access` flags (``SM`` = PACE
    secure messaging, ``PIN1``/``PIN2``, ``TA`` = Terminal Authentication whose CHAT holds one of
    ``rights``; ``NEVER`` = refused once personalised); ``contact_only`` for the encrypted and
    certificate zones and the PIN commands."""

    target: str
    action: str
    condition: Access
    rights: NeidRight = NeidRight.NONE
    contact_only: bool = False


_DIDS: tuple[DidInfo, ...] = (
    DidInfo("PACE.CAN", DidKind.PACE, ID_PACE_ECDH_GM_AES_256, MF_APPLICATION, PasswordRef.CAN),
    DidInfo("PACE.MRZ", DidKind.PACE, ID_PACE_ECDH_GM_AES_256, MF_APPLICATION, PasswordRef.MRZ),
    DidInfo("PIN1", DidKind.PIN, ID_PIN_COMPARE, MF_APPLICATION, PinRef.PIN1),
    DidInfo("PIN2", DidKind.PIN, ID_PIN_COMPARE, MF_APPLICATION, PinRef.PIN2),
    DidInfo("UserCode", DidKind.PIN, ID_PIN_COMPARE, MF_APPLICATION, PinRef.USER_CODE),
    DidInfo("TA", DidKind.TA, ID_TA_ECDSA_SHA_512, MF_APPLICATION, None),
    DidInfo("CA", DidKind.CA, ID_CA_ECDH_AES_CBC_CMAC_256, MF_APPLICATION, KeyRef.CHIP_AUTHENTICATION),
    DidInfo("AA", DidKind.AA, ECDSA_WITH_SHA512, MF_APPLICATION, KeyRef.ACTIVE_AUTHENTICATION),
    DidInfo(CertificateKey.RSA_SIGN.value, DidKind.KEY, ID_GENERIC_CRYPTOGRAPHY, Zone.CERTIFICATE.value,
            KeyRef.RSA_SIGN, SHA256_WITH_RSA),
    DidInfo(CertificateKey.RSA_ENCRYPT.value, DidKind.KEY, ID_GENERIC_CRYPTOGRAPHY, Zone.CERTIFICATE.value,
            KeyRef.RSA_ENCRYPT, RSA_ENCRYPTION),
    DidInfo(CertificateKey.EC_SIGN.value, DidKind.KEY, ID_GENERIC_CRYPTOGRAPHY, Zone.CERTIFICATE.value,
            KeyRef.EC_SIGN, ECDSA_WITH_SHA512),
    DidInfo(CertificateKey.EC_KEY_AGREEMENT.value, DidKind.KEY, ID_GENERIC_CRYPTOGRAPHY,
            Zone.CERTIFICATE.value, KeyRef.EC_KEY_AGREEMENT, ID_EC_DH),
)
_SIGNING_KEYS = {CertificateKey.RSA_SIGN, CertificateKey.EC_SIGN}
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


@dataclass
class _Connection:
    application: CardApplication
    data_set: FileSpec | None = None


@dataclass
class _State:
    connections: dict[int, _Connection] = field(default_factory=dict)
    eac: tuple[EacTerminal, ChipAuthenticationKey] | None = None
    applications: tuple[CardApplication, ...] | None = None


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Iso24727Sal:
    """The service access layer over one card reached through ``transport``.

    ``trust_anchors``: CSCA certificates (Passive Authentication of EF.CardSecurity before CA);
    ``now`` and ``rng`` as for :class:`~neweid.terminal.reader.NewEidReader`."""

    def __init__(self, transport: Transport, trust_anchors: Iterable[x509.Certificate], *,
                 now: Callable[[], datetime.datetime] = _utc_now,
                 rng: Callable[[int], bytes] = os.urandom) -> None:
        self._reader = NewEidReader(transport, trust_anchors, now=now, rng=rng)
        self._anchors = list(trust_anchors)
        self._now = now
        self._rng = rng
        self._state = _State()
        self._handles = itertools.count(1)

    @property
    def reader(self) -> NewEidReader:
        return self._reader

    def close(self) -> None:
        """Terminate: end every connection and power the card off."""
        self._state = _State()
        self._reader.close()

    # -- card application access (CardApplicationPath / Connect / Disconnect) -------------------------
    def card_application_path(self, aid: bytes | None = None) -> list[CardApplication]:
        """CardApplicationPath (also CardApplicationList): the master file and the zones listed in
        EF.DIR (read without any access condition) that the file map knows, optionally only ``aid``."""
        apps = self._applications()
        return [app for app in apps if aid is None or app.aid == aid]

    def _applications(self) -> tuple[CardApplication, ...]:
        if self._state.applications is None:
            with translated():
                session = self._reader.session
                session.select_mf()
                raw = session.read_binary_file(sfi=EF_DIR_SFI, whole_tlv=False)
            apps = [CardApplication(MF_APPLICATION, None, None, "主檔")]
            try:
                templates = [t for t in parse_tlvs(raw) if t.tag == 0x61]
                for template in templates:
                    aid_do = find_tlv(template.children(), 0x4F)
                    spec = zone_by_aid(aid_do.value) if aid_do is not None else None
                    if spec is not None:
                        apps.append(CardApplication(spec.zone.value, spec.aid, spec.zone, spec.label_zh))
            except TlvError as exc:
                raise InternalError(f"EF.DIR ({EF_DIR_FID:04X}) is malformed: {exc}") from exc
            self._state.applications = tuple(apps)
        return self._state.applications

    def card_application_connect(self, application: str | bytes) -> ConnectionHandle:
        """CardApplicationConnect: a handle to the application named (``"MF"``, ``"public"``, …) or
        given by AID; selects it on the card (a closed certificate zone answers
        :class:`NamedEntityNotFound`)."""
        app = self._find_application(application)
        self._select_application(app)
        handle = ConnectionHandle(next(self._handles), app.name)
        self._state.connections[handle.handle] = _Connection(app)
        return handle

    def card_application_disconnect(self, handle: ConnectionHandle) -> None:
        """CardApplicationDisconnect."""
        self._connection(handle)
        del self._state.connections[handle.handle]

    def _find_application(self, application: str | bytes) -> CardApplication:
        for app in self._applications():
            if application in (app.name, app.aid):
                return app
        shown = application.hex() if isinstance(application, bytes) else application
        raise NamedEntityNotFound(f"no card application {shown} on this card")

    def _connection(self, handle: ConnectionHandle) -> _Connection:
        connection = self._state.connections.get(handle.handle)
        if connection is None or connection.application.name != handle.application:
            raise UnknownConnectionHandle(f"unknown connection handle {handle.handle}")
        return connection

    def _select_application(self, app: CardApplication) -> None:
        with translated():
            if app.aid is None:
                self._reader.session.select_mf()
            else:
                try:
                    self._reader.session.select_aid(app.aid)
                except CardStatusError as exc:
                    if exc.sw == StatusWord.FILE_NOT_FOUND:
                        raise ZoneClosed(app.name) from exc
                    raise

    # -- sessions ------------------------------------------------------------------------------------------
    def card_application_start_session(self, handle: ConnectionHandle, did: str,
                                       password: str) -> DidAuthenticationResult:
        """CardApplicationStartSession: open the secure channel with a PACE DID (``PACE.CAN`` or
        ``PACE.MRZ``)."""
        info = self._did(self._connection(handle), did)
        if info.kind is not DidKind.PACE:
            raise InappropriateProtocolForAction(f"{did} does not open a session (use PACE.CAN or PACE.MRZ)")
        return self.did_authenticate(handle, did, password=password)

    def card_application_end_session(self, handle: ConnectionHandle) -> None:
        """CardApplicationEndSession: forget the secure channel (the card drops every access right)."""
        self._connection(handle)
        self._state.eac = None
        self._reader.session.end_secure_messaging()

    # -- data sets and DSIs ---------------------------------------------------------------------------------
    @staticmethod
    def _files(app: CardApplication) -> tuple[FileSpec, ...]:
        return MASTER_FILES if app.zone is None else zone_spec(app.zone).files

    def data_set_list(self, handle: ConnectionHandle) -> list[DataSetInfo]:
        """DataSetList: the application's data sets (EFs) as the file map defines them (an EF that
        personalisation left empty is listed but answers :class:`NamedEntityNotFound` when read)."""
        app = self._connection(handle).application
        return [DataSetInfo(f.name, f.fid, f.sfi, f.content) for f in self._files(app)]

    def data_set_select(self, handle: ConnectionHandle, name: str) -> DataSetInfo:
        """DataSetSelect: select the EF ``name`` (e.g. ``"DG1"``, ``"SOD"``, ``"CERT3"``, ``"EF.DIR"``)."""
        connection = self._connection(handle)
        spec = self._file(connection.application, name)
        self._select_application(connection.application)
        with translated():
            self._reader.session.select_ef(spec.fid)
        connection.data_set = spec
        return DataSetInfo(spec.name, spec.fid, spec.sfi, spec.content)

    def _file(self, app: CardApplication, name: str) -> FileSpec:
        for spec in self._files(app):
            if spec.name == name:
                return spec
        raise NamedEntityNotFound(f"the {app.name} application has no data set {name!r}")

    def _selected(self, handle: ConnectionHandle) -> tuple[_Connection, FileSpec]:
        connection = self._connection(handle)
        if connection.data_set is None:
            raise IncorrectParameter("no data set selected (DataSetSelect first)")
        return connection, connection.data_set

    def dsi_list(self, handle: ConnectionHandle) -> list[str]:
        """DSIList: the DSIs of the selected data set. Every New eID data set holds one structure (one
        BER-TLV data group, security object or certificate), so its one DSI bears the data set's name."""
        _, spec = self._selected(handle)
        return [spec.name]

    def dsi_read(self, handle: ConnectionHandle, dsi: str) -> bytes:
        """DSIRead: the content of the DSI (the whole EF), under the file map's access rules."""
        connection, spec = self._selected(handle)
        if dsi != spec.name:
            raise NamedEntityNotFound(f"the data set {spec.name} has no DSI {dsi!r}")
        self._select_application(connection.application)
        with translated():  # EF.DIR holds several templates; every other EF holds one TLV
            return self._reader.session.read_binary_file(sfi=spec.sfi, whole_tlv=spec.fid != EF_DIR_FID)

    # -- differential identities ------------------------------------------------------------------------
    def did_list(self, handle: ConnectionHandle) -> list[DidInfo]:
        """DIDList: the card-wide DIDs (PACE, PINs, TA, CA, AA) and the application's own (the
        certificate zone's keys)."""
        app = self._connection(handle).application
        return [d for d in _DIDS if d.application in (MF_APPLICATION, app.name)]

    def _did(self, connection: _Connection, name: str) -> DidInfo:
        for did in _DIDS:
            if did.name == name and did.application in (MF_APPLICATION, connection.application.name):
                return did
        raise NamedEntityNotFound(f"no DID {name!r} in the {connection.application.name} application")

    def did_get(self, handle: ConnectionHandle, did: str) -> DidStructure:
        """DIDGet: the DID with its current state: a PIN's status (no try used; needs the secure
        channel), a certificate key's public half (read from the chip)."""
        info = self._did(self._connection(handle), did)
        with translated():
            if info.kind is DidKind.PIN:
                return DidStructure(info, pin_status=self._reader.pin_status(PinRef(self._reference(info))))
            if info.kind is DidKind.KEY:
                key = CertificateKey(info.name)
                return DidStructure(info, public_key=self._reader.certificate_zone().public_key(key))
        return DidStructure(info)

    def did_authenticate(self, handle: ConnectionHandle, did: str, *, password: str | None = None,
                         authenticator: TerminalAuthenticator | None = None,
                         aux: bytes = b"") -> DidAuthenticationResult:
        """DIDAuthenticate with ``did``:

        - ``PACE.CAN`` / ``PACE.MRZ`` (``password``: the CAN or the MRZ key seed): opens the secure channel;
        - ``PIN1`` / ``PIN2`` / ``UserCode`` (``password``): VERIFY;
        - ``TA`` (``authenticator``: the terminal's CV chain and key): checks EF.CardSecurity, has the chip
          verify the chain, and signs the chip's challenge;
        - ``CA`` (after TA): Chip Authentication against EF.CardSecurity's key; secure messaging continues
          under the new keys;
        - ``AA``: Active Authentication against the public zone's DG15."""
        info = self._did(self._connection(handle), did)
        with translated():
            if info.kind is DidKind.PACE:
                secret = self._require(password, "password", did)
                if info.reference == PasswordRef.CAN:
                    self._reader.open_with_can(secret)
                else:
                    self._reader.open_with_mrz(secret)
                self._state.eac = None
                return DidAuthenticationResult(did, True)
            if info.kind is DidKind.PIN:
                secret = self._require(password, "password", did)
                self._reader.verify_pin(PinRef(self._reference(info)), secret)
                return DidAuthenticationResult(did, True)
            if info.kind is DidKind.TA:
                if authenticator is None:
                    raise IncorrectParameter("TA needs the terminal's authenticator (CV chain and key)")
                terminal = EacTerminal(self._reader.session, authenticator, self._anchors, now=self._now,
                                       rng=self._rng, aux=aux)
                self._state.eac = None
                chip_key = terminal.verify_card_security()
                terminal.verify_certificates()
                terminal.authenticate_terminal()
                self._state.eac = (terminal, chip_key)
                return DidAuthenticationResult(did, True, terminal.rights, terminal.terminal_chr)
            if info.kind is DidKind.CA:
                pending = self._state.eac
                if pending is None:
                    raise SecurityConditionNotSatisfied("Chip Authentication follows Terminal Authentication "
                                                        "(DIDAuthenticate TA first)")
                self._state.eac = None
                terminal, chip_key = pending
                terminal.authenticate_chip()
                result = EacResult(terminal.terminal_chr, terminal.rights, chip_key)
                return DidAuthenticationResult(did, True, result.rights, result.terminal_chr, result)
            if info.kind is DidKind.AA:
                self._reader.active_authentication(self._rng)
                return DidAuthenticationResult(did, True)
        raise InappropriateProtocolForAction(f"{did} is a key: use Sign, Decipher or Encipher with it")

    @staticmethod
    def _reference(info: DidInfo) -> int:
        if info.reference is None:
            raise InternalError(f"the DID {info.name} has no card reference")
        return info.reference

    @staticmethod
    def _require(value: str | None, what: str, did: str) -> str:
        if value is None:
            raise IncorrectParameter(f"DIDAuthenticate {did} needs the {what}")
        return value

    # -- cryptographic services ---------------------------------------------------------------------------
    def _key(self, handle: ConnectionHandle, did: str) -> CertificateKey:
        info = self._did(self._connection(handle), did)
        if info.kind is not DidKind.KEY:
            raise InappropriateProtocolForAction(f"{did} is not a key DID of the certificate zone")
        return CertificateKey(info.name)

    def sign(self, handle: ConnectionHandle, did: str, message: bytes) -> bytes:
        """Sign: hash ``message`` (SHA-256 for RSA, SHA-512 for EC) and sign it on the card with the
        signing key ``did`` (``rsa-sign`` PKCS#1 v1.5, ``ec-sign`` ECDSA as DER); PIN2 first."""
        key = self._key(handle, did)
        if key not in _SIGNING_KEYS:
            raise InappropriateProtocolForAction(f"{did} is not a signing key")
        with translated():
            return self._reader.certificate_zone().sign(message, key)

    def verify_signature(self, handle: ConnectionHandle, did: str, signature: bytes, message: bytes) -> None:
        """VerifySignature (host side, with the public key read from the chip): raises
        :class:`InvalidSignature` when ``signature`` is not the key's signature of ``message``."""
        key = self._key(handle, did)
        if key not in _SIGNING_KEYS:
            raise InappropriateProtocolForAction(f"{did} is not a signing key")
        with translated():
            public = self._reader.certificate_zone().public_key(key)
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, message, padding.PKCS1v15(), key.default_hash)
            else:
                public.verify(signature, message, ec.ECDSA(key.default_hash))
        except (InvalidSignature, ValueError) as exc:
            raise InvalidSignatureError(f"the signature does not verify with the {did} key") from exc

    def encipher(self, handle: ConnectionHandle, did: str, plaintext: bytes) -> bytes:
        """Encipher (host side): RSA PKCS#1 v1.5 with the ``rsa-encrypt`` public key read from the
        chip; the citizen deciphers with :meth:`decipher`."""
        key = self._key(handle, did)
        if key is not CertificateKey.RSA_ENCRYPT:
            raise InappropriateProtocolForAction(f"{did} cannot encipher (use rsa-encrypt)")
        with translated():
            public = self._reader.certificate_zone().public_key(key)
        if not isinstance(public, rsa.RSAPublicKey):
            raise InternalError("the rsa-encrypt key on the chip is not an RSA key")
        try:
            return public.encrypt(plaintext, padding.PKCS1v15())
        except ValueError as exc:
            raise IncorrectParameter(f"cannot encipher: {exc}") from exc

    def decipher(self, handle: ConnectionHandle, did: str, ciphertext: bytes) -> bytes:
        """Decipher on the card with ``rsa-encrypt`` (PKCS#1 v1.5); PIN2 first."""
        key = self._key(handle, did)
        if key is not CertificateKey.RSA_ENCRYPT:
            raise InappropriateProtocolForAction(f"{did} cannot decipher (use rsa-encrypt)")
        with translated():
            return self._reader.certificate_zone().decipher(ciphertext)

    def get_random(self, handle: ConnectionHandle, length: int) -> bytes:
        """GetRandom: ``length`` bytes from the chip's TRNG (GET CHALLENGE, 8 bytes per command)."""
        self._connection(handle)
        if not 1 <= length <= MAX_RANDOM:
            raise IncorrectParameter(f"GetRandom length must be 1..{MAX_RANDOM}")
        out = b""
        with translated():
            while len(out) < length:
                response = self._reader.session.send(0x00, Ins.GET_CHALLENGE, 0x00, 0x00, le=CHALLENGE_LENGTH)
                self._reader.session.raise_for_status(response, "GET CHALLENGE")
                if len(response.data) != CHALLENGE_LENGTH:
                    raise InternalError(f"GET CHALLENGE answered {len(response.data)} bytes")
                out += response.data
        return out[:length]

    def hash(self, handle: ConnectionHandle, algorithm: str, message: bytes) -> bytes:
        """Hash (host side; the chip offers no hash command): ``sha224``/``sha256``/``sha384``/``sha512``."""
        self._connection(handle)
        factory = _HASHES.get(algorithm.lower().replace("-", ""))
        if factory is None:
            raise IncorrectParameter(f"unsupported hash {algorithm!r} (choose {', '.join(_HASHES)})")
        digest = hashes.Hash(factory())
        digest.update(bytes(message))
        return digest.finalize()

    def verify_certificate(self, handle: ConnectionHandle, certificate: x509.Certificate,
                           issuer: x509.Certificate) -> None:
        """VerifyCertificate (host side): ``issuer`` signed ``certificate``; :class:`InvalidSignature`
        otherwise."""
        self._connection(handle)
        try:
            verify_cert(certificate, issuer)
        except SignatureInvalidError as exc:
            raise InvalidSignatureError(str(exc)) from exc

    # -- authorisation ------------------------------------------------------------------------------------
    def acl_list(self, handle: ConnectionHandle) -> list[AccessRule]:
        """ACLList: the access rules of the application's data sets (file map: read and update rules,
        CHAT rights) and DIDs (keys: PIN2 over SM on the contact interface)."""
        app = self._connection(handle).application
        rules: list[AccessRule] = []
        for spec in self._files(app):
            contact_only = not spec.contactless
            rules.append(AccessRule(spec.name, "DSIRead", spec.read, spec.read_right, contact_only))
            rules.append(AccessRule(spec.name, "DSIWrite", spec.update, spec.update_right, contact_only))
        for did in self.did_list(handle):
            if did.kind is DidKind.KEY:
                action = "Sign" if CertificateKey(did.name) in _SIGNING_KEYS else (
                    "Decipher" if did.name == CertificateKey.RSA_ENCRYPT.value else "DIDAuthenticate")
                rules.append(AccessRule(did.name, action, Access.SM | Access.PIN2, NeidRight.NONE, True))
            elif did.kind in (DidKind.PIN, DidKind.TA, DidKind.CA):
                rules.append(AccessRule(did.name, "DIDAuthenticate", Access.SM, NeidRight.NONE, True))
            else:
                rules.append(AccessRule(did.name, "DIDAuthenticate", Access.ALWAYS if did.kind is DidKind.PACE
                                        else Access.SM, NeidRight.NONE, False))
        return rules
