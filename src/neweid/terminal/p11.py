"""The citizen-certificate library in the style of PKCS#11 (table 11 "自然人憑證 API", API-3, API-4): slots,
tokens, login with PIN2, the four on-card keys (BasicSign, BasicAsymDecrypt, DeriveSessionKeyECDH), the
six certificates, and the host-side counterparts (BasicVerify, BasicAsymEncrypt, GenSessionKeyECDH).
Certificate field getters, CRLs and OCSP are in :mod:`~neweid.terminal.p11_cert`,
:mod:`~neweid.terminal.p11_crl` and :mod:`~neweid.terminal.p11_ocsp`.

A slot is a card reader: anything that opens a :class:`~neweid.terminal.transport.Transport` to the card
in it (the in-process virtual card, PC/SC). A token is recognised as a New eID card when its EF.DIR
(readable without any access condition) lists the New eID zone AIDs; any other token (an old MOICA card,
another smart card) is reported as :class:`~neweid.terminal.p11_errors.NotNewEidError` (API-4).

The card needs the secure channel before anything but EF.DIR can be read: :meth:`open_session` runs
PACE with the CAN printed on the card; :meth:`login_token` also verifies PIN2 (and opens the session
when needed). The private keys never leave the chip.

Example::

    lib = CitizenCertificateLibrary([Slot(0, "virtual reader", lambda: InProcessTransport(card))])
    lib.login_token(0, pin2, can=can)
    key = lib.get_signature_key(0)
    signature = lib.basic_sign(key, document)
    CitizenCertificateLibrary.basic_verify(lib.get_signature_cert(0), document, signature)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from neweid.crypto.ec import crypto_curve, curve_by_name, random_scalar
from neweid.crypto.errors import CryptoError
from neweid.formats.filemap import AID_PREFIX, Zone, zone_spec
from neweid.formats.iso7816 import StatusWord
from neweid.formats.tlv import TlvError, find_tlv, parse_tlvs
from neweid.formats.zones import PublicZone
from neweid.terminal.certzone import CertificateKey, CertificateZone, PublicKey
from neweid.terminal.errors import (
    AccessDenied,
    CardStatusError,
    InterfaceNotAllowed,
    InvalidInputError,
    PinBlocked,
    PinIncorrect,
    PinNotSet,
    ReaderError,
    TransportError,
    WrongAccessCode,
    ZoneClosed,
)
from neweid.terminal.p11_errors import (
    Ckr,
    NotNewEidError,
    P11Error,
    SignatureInvalidError,
    TokenNotPresentError,
)
from neweid.terminal.reader import NewEidReader
from neweid.terminal.transport import Transport

__all__ = [
    "CitizenCertificateLibrary",
    "KeyHandle",
    "KeyPurpose",
    "KeyType",
    "LibraryInfo",
    "Slot",
    "TokenKind",
    "to_p11_error",
]

log = logging.getLogger(__name__)

LIBRARY_VERSION = "1.0"
EF_DIR_SFI = 0x1E
SESSION_KEY_LENGTH = 32
_CERT_NUMBERS = tuple(spec.sfi for spec in zone_spec(Zone.CERTIFICATE).files)
_KEYS = (CertificateKey.RSA_SIGN, CertificateKey.RSA_ENCRYPT, CertificateKey.EC_SIGN,
         CertificateKey.EC_KEY_AGREEMENT)


class TokenKind(Enum):
    NEW_EID = "New eID"
    OTHER = "not a New eID card"
    ABSENT = "no token"


class KeyType(Enum):
    RSA_2048 = "RSA-2048"
    EC_P521 = "EC P-521"


class KeyPurpose(Enum):
    SIGNATURE = "signature"
    ENCIPHERMENT = "encipherment"  # RSA decryption
    KEY_AGREEMENT = "key agreement"  # ECDH


_PURPOSES = {CertificateKey.RSA_SIGN: KeyPurpose.SIGNATURE,
             CertificateKey.RSA_ENCRYPT: KeyPurpose.ENCIPHERMENT,
             CertificateKey.EC_SIGN: KeyPurpose.SIGNATURE,
             CertificateKey.EC_KEY_AGREEMENT: KeyPurpose.KEY_AGREEMENT}


@dataclass(frozen=True)
class Slot:
    """A card reader: ``connect`` powers the card in it up and returns the transport (raising
    :class:`TransportError` when there is no card)."""

    slot_id: int
    description: str
    connect: Callable[[], Transport]


@dataclass(frozen=True)
class LibraryInfo:
    """HiSecureFunction: what the library is."""

    name: str
    version: str
    manufacturer: str
    description: str


@dataclass(frozen=True)
class KeyHandle:
    """GetKey's answer: a reference to one on-card private key with its public half (FreeKey: a value,
    nothing to free)."""

    slot_id: int
    key_id: CertificateKey
    key_type: KeyType
    purpose: KeyPurpose
    public_key: PublicKey


@dataclass
class _Token:
    transport: Transport
    reader: NewEidReader
    session_open: bool = False
    logged_in: bool = False
    zone: CertificateZone | None = None
    certificates: dict[int, x509.Certificate] | None = None
    keys: dict[CertificateKey, PublicKey] = field(default_factory=dict)


def to_p11_error(exc: ReaderError) -> P11Error:
    """The PKCS#11 error for a host-side error."""
    text = str(exc)
    if isinstance(exc, P11Error):
        return exc
    mapping: tuple[tuple[type[ReaderError], Ckr], ...] = (
        (InvalidInputError, Ckr.ARGUMENTS_BAD), (PinIncorrect, Ckr.PIN_INCORRECT),
        (WrongAccessCode, Ckr.PIN_INCORRECT), (PinBlocked, Ckr.PIN_LOCKED),
        (PinNotSet, Ckr.USER_PIN_NOT_INITIALIZED), (AccessDenied, Ckr.USER_NOT_LOGGED_IN),
        (InterfaceNotAllowed, Ckr.FUNCTION_NOT_SUPPORTED), (ZoneClosed, Ckr.OBJECT_HANDLE_INVALID),
        (TransportError, Ckr.TOKEN_NOT_PRESENT))
    for kind, code in mapping:
        if isinstance(exc, kind):
            return P11Error(code, text)
    if isinstance(exc, CardStatusError):
        if exc.sw == StatusWord.WRONG_DATA:
            return P11Error(Ckr.ENCRYPTED_DATA_INVALID, text)
        if exc.sw == StatusWord.CONDITIONS_NOT_SATISFIED:
            return P11Error(Ckr.KEY_FUNCTION_NOT_PERMITTED, text)
        if exc.sw == StatusWord.FILE_NOT_FOUND:
            return P11Error(Ckr.OBJECT_HANDLE_INVALID, text)
    return P11Error(Ckr.DEVICE_ERROR, text)


@contextmanager
def _p11() -> Iterator[None]:
    try:
        yield
    except P11Error:
        raise
    except ReaderError as exc:
        raise to_p11_error(exc) from exc


def _hash_of(key: PublicKey, algorithm: hashes.HashAlgorithm | None) -> hashes.HashAlgorithm:
    if algorithm is not None:
        return algorithm
    return hashes.SHA256() if isinstance(key, rsa.RSAPublicKey) else hashes.SHA512()


def _public_of(target: x509.Certificate | PublicKey | KeyHandle) -> PublicKey:
    if isinstance(target, KeyHandle):
        return target.public_key
    if isinstance(target, x509.Certificate):
        try:
            key = target.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise P11Error(Ckr.DATA_INVALID, f"the certificate's key is unusable: {exc}") from exc
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise P11Error(Ckr.DATA_INVALID, "the certificate holds neither an RSA nor an EC key")
        return key
    if isinstance(target, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return target
    raise P11Error(Ckr.ARGUMENTS_BAD, "expected a certificate, a public key or a key handle")


def _session_key(shared: bytes, length: int) -> bytes:
    """ANSI X9.63 KDF with SHA-256 over the ECDH shared x-coordinate (no shared info)."""
    if not 16 <= length <= 64:
        raise P11Error(Ckr.ARGUMENTS_BAD, "the session key has 16 to 64 bytes")
    return X963KDF(algorithm=hashes.SHA256(), length=length, sharedinfo=None).derive(shared)


class CitizenCertificateLibrary:
    """InitLibrary: the library over ``slots``; CloseLibrary is :meth:`close_library`.

    ``trust_anchors``: CSCA certificates (used when a caller reads the public zone's card serial with
    Passive Authentication); ``rng`` feeds PACE and the ephemeral ECDH keys."""

    def __init__(self, slots: Sequence[Slot], trust_anchors: Sequence[x509.Certificate] = (), *,
                 rng: Callable[[int], bytes] = os.urandom) -> None:
        ids = [slot.slot_id for slot in slots]
        if len(set(ids)) != len(ids):
            raise P11Error(Ckr.ARGUMENTS_BAD, "slot ids must be unique")
        self._slots = {slot.slot_id: slot for slot in slots}
        self._anchors = list(trust_anchors)
        self._rng = rng
        self._tokens: dict[int, _Token] = {}
        self._open = True

    # -- library and slots -------------------------------------------------------------------------------
    def close_library(self) -> None:
        """CloseLibrary: log out of every token and power the cards down."""
        for slot_id in list(self._tokens):
            self._drop(slot_id)
        self._open = False

    @staticmethod
    def library_info() -> LibraryInfo:
        """HiSecureFunction: the library's description."""
        return LibraryInfo("neweid citizen-certificate library", LIBRARY_VERSION, "neweid project",
                           "PKCS#11-style access to the New eID citizen-certificate zone (table 11)")

    def _slot(self, slot_id: int) -> Slot:
        if not self._open:
            raise P11Error(Ckr.CRYPTOKI_NOT_INITIALIZED, "the library is closed")
        slot = self._slots.get(slot_id)
        if slot is None:
            raise P11Error(Ckr.SLOT_ID_INVALID, f"no slot {slot_id}")
        return slot

    def get_slot_ids(self) -> list[int]:
        """GetSlotID: the ids of every slot."""
        if not self._open:
            raise P11Error(Ckr.CRYPTOKI_NOT_INITIALIZED, "the library is closed")
        return sorted(self._slots)

    def get_slot_description(self, slot_id: int) -> str:
        """GetSlotDesc."""
        return self._slot(slot_id).description

    # -- tokens --------------------------------------------------------------------------------------------
    def _drop(self, slot_id: int) -> None:
        token = self._tokens.pop(slot_id, None)
        if token is not None:
            try:
                token.reader.close()
            except ReaderError:
                log.debug("closing slot %d failed", slot_id)

    def _token(self, slot_id: int) -> _Token:
        slot = self._slot(slot_id)
        token = self._tokens.get(slot_id)
        if token is not None:
            return token
        try:
            transport = slot.connect()
        except ReaderError as exc:
            raise TokenNotPresentError(f"slot {slot_id}: {exc}") from exc
        reader = NewEidReader(transport, self._anchors, rng=self._rng)
        token = _Token(transport, reader)
        try:
            self._check_new_eid(token)
        except P11Error:
            reader.close()
            raise
        self._tokens[slot_id] = token
        return token

    @staticmethod
    def _check_new_eid(token: _Token) -> None:
        session = token.reader.session
        try:
            session.select_mf()
            raw = session.read_binary_file(sfi=EF_DIR_SFI, whole_tlv=False)
            templates = [t for t in parse_tlvs(raw) if t.tag == 0x61]
            aids = [aid.value for t in templates if (aid := find_tlv(t.children(), 0x4F)) is not None]
        except TransportError as exc:
            raise TokenNotPresentError(str(exc)) from exc
        except (CardStatusError, TlvError) as exc:
            raise NotNewEidError(f"it has no readable New eID EF.DIR ({exc})") from exc
        except ReaderError as exc:
            raise NotNewEidError(str(exc)) from exc
        if not any(aid.startswith(AID_PREFIX) for aid in aids):
            raise NotNewEidError("its EF.DIR lists none of the New eID applications")

    def token_kind(self, slot_id: int) -> TokenKind:
        """What is in the slot: a New eID card, another token, or nothing (API-4)."""
        try:
            self._token(slot_id)
        except TokenNotPresentError:
            return TokenKind.ABSENT
        except NotNewEidError:
            return TokenKind.OTHER
        return TokenKind.NEW_EID

    def is_token_present(self, slot_id: int) -> bool:
        """IsTokenPresent: a token (of any kind) answers in the slot."""
        return self.token_kind(slot_id) is not TokenKind.ABSENT

    def get_token_label(self, slot_id: int) -> str:
        """GetTokenLabel (:class:`NotNewEidError` for another token)."""
        token = self._token(slot_id)
        return f"New eID ({token.transport.interface.value})"

    def get_token_serial_number(self, slot_id: int) -> str:
        """GetTokenSerialNumber: the card serial number (public zone DG7, read over the session)."""
        token = self._session_token(slot_id)
        with _p11():
            groups = token.reader.read_zone(Zone.PUBLIC, verify=bool(self._anchors))
            try:
                return PublicZone.from_data_groups(groups).card_serial.serial
            except (ValueError, AttributeError) as exc:
                raise P11Error(Ckr.DEVICE_ERROR, f"the public zone cannot be decoded: {exc}") from exc

    def open_session(self, slot_id: int, *, can: str) -> None:
        """Open the secure channel with the CAN (PACE); certificates and public keys become readable."""
        token = self._token(slot_id)
        with _p11():
            token.reader.open_with_can(can)
        token.session_open, token.logged_in = True, False
        token.zone = token.reader.certificate_zone()

    def _session_token(self, slot_id: int) -> _Token:
        token = self._token(slot_id)
        if not token.session_open:
            raise P11Error(Ckr.USER_NOT_LOGGED_IN, "open a session with the CAN first (open_session / "
                                                   "login_token)")
        return token

    def _zone(self, token: _Token) -> CertificateZone:
        if token.zone is None:
            token.zone = token.reader.certificate_zone()
        return token.zone

    def login_token(self, slot_id: int, pin: str, *, can: str | None = None) -> None:
        """LoginToken: verify PIN2 (opening the session with ``can`` first when given or needed).
        :class:`P11Error` ``PIN_INCORRECT`` (with the tries left in the message) or ``PIN_LOCKED``."""
        token = self._token(slot_id)
        if can is not None or not token.session_open:
            if can is None:
                raise P11Error(Ckr.ARGUMENTS_BAD, "the first login needs the card's CAN")
            self.open_session(slot_id, can=can)
        with _p11():
            self._zone(token).verify_pin2(pin)
        token.logged_in = True
        log.info("logged in to the token in slot %d", slot_id)

    def logout_token(self, slot_id: int) -> None:
        """LogoutToken: end the secure channel (the card forgets PIN2) and power the card down."""
        self._slot(slot_id)
        self._drop(slot_id)

    def _logged_in(self, slot_id: int) -> _Token:
        token = self._session_token(slot_id)
        if not token.logged_in:
            raise P11Error(Ckr.USER_NOT_LOGGED_IN, "log in with PIN2 first (login_token)")
        return token

    # -- keys ----------------------------------------------------------------------------------------------
    def _public_keys(self, token: _Token) -> dict[CertificateKey, PublicKey]:
        if not token.keys:
            zone = self._zone(token)
            for key in _KEYS:
                try:
                    with _p11():
                        token.keys[key] = zone.public_key(key)
                except P11Error as exc:
                    if exc.code in (Ckr.OBJECT_HANDLE_INVALID, Ckr.DEVICE_ERROR) and isinstance(
                            exc.__cause__, CardStatusError) and exc.__cause__.sw in (
                            StatusWord.REFERENCE_DATA_NOT_FOUND, StatusWord.FILE_NOT_FOUND):
                        continue  # key absent, or the zone is closed (opted out)
                    raise
        return token.keys

    def get_key_num(self, slot_id: int) -> int:
        """GetKeyNum: how many citizen-certificate keys the card holds (4, or 0 when the zone is closed)."""
        return len(self._public_keys(self._session_token(slot_id)))

    def get_key_id(self, slot_id: int, index: int) -> CertificateKey:
        """GetKeyID: the id of the ``index``-th key (0-based)."""
        keys = list(self._public_keys(self._session_token(slot_id)))
        if not 0 <= index < len(keys):
            raise P11Error(Ckr.ARGUMENTS_BAD, f"the token has {len(keys)} keys, no key {index}")
        return keys[index]

    def get_key(self, slot_id: int, key_id: CertificateKey | str) -> KeyHandle:
        """GetKey: a handle to the key ``key_id`` (``rsa-sign``, ``rsa-encrypt``, ``ec-sign``,
        ``ec-key-agreement``). FreeKey: nothing to free."""
        try:
            key = CertificateKey(key_id)
        except ValueError as exc:
            raise P11Error(Ckr.ARGUMENTS_BAD, f"unknown key id {key_id!r}") from exc
        keys = self._public_keys(self._session_token(slot_id))
        public = keys.get(key)
        if public is None:
            raise P11Error(Ckr.KEY_HANDLE_INVALID, f"the token has no {key.value} key")
        key_type = KeyType.RSA_2048 if key.is_rsa else KeyType.EC_P521
        return KeyHandle(slot_id, key, key_type, _PURPOSES[key], public)

    @staticmethod
    def get_key_type(handle: KeyHandle) -> KeyType:
        """GetKeyType."""
        return handle.key_type

    def get_signature_key(self, slot_id: int, key_type: KeyType = KeyType.RSA_2048) -> KeyHandle:
        """GetSignatureKey: the RSA (default) or EC signing key."""
        return self.get_key(slot_id, CertificateKey.RSA_SIGN if key_type is KeyType.RSA_2048
                            else CertificateKey.EC_SIGN)

    def get_encipherment_key(self, slot_id: int, key_type: KeyType = KeyType.RSA_2048) -> KeyHandle:
        """GetEnciphermentKey: the RSA encryption key (default) or the EC key-agreement key."""
        return self.get_key(slot_id, CertificateKey.RSA_ENCRYPT if key_type is KeyType.RSA_2048
                            else CertificateKey.EC_KEY_AGREEMENT)

    # -- private-key operations (on the card, PIN2) ----------------------------------------------------------
    def _handle_token(self, handle: KeyHandle, purpose: KeyPurpose) -> CertificateZone:
        token = self._logged_in(handle.slot_id)
        if handle.purpose is not purpose:
            raise P11Error(Ckr.KEY_FUNCTION_NOT_PERMITTED, f"the {handle.key_id.value} key is for "
                                                           f"{handle.purpose.value}, not {purpose.value}")
        return self._zone(token)

    def basic_sign(self, handle: KeyHandle, data: bytes,
                   algorithm: hashes.HashAlgorithm | None = None) -> bytes:
        """BasicSign: hash ``data`` (SHA-256 for RSA, SHA-512 for EC, unless ``algorithm``) and sign the
        hash on the card: PKCS#1 v1.5 for RSA, DER-encoded ECDSA for EC."""
        zone = self._handle_token(handle, KeyPurpose.SIGNATURE)
        with _p11():
            return zone.sign(data, handle.key_id, algorithm)

    def basic_asym_decrypt(self, handle: KeyHandle, ciphertext: bytes) -> bytes:
        """BasicAsymDecrypt: RSA PKCS#1 v1.5 decryption on the card with ``rsa-encrypt``."""
        zone = self._handle_token(handle, KeyPurpose.ENCIPHERMENT)
        with _p11():
            return zone.decipher(ciphertext)

    def derive_session_key_ecdh(self, handle: KeyHandle, ephemeral_public_point: bytes,
                                length: int = SESSION_KEY_LENGTH) -> bytes:
        """DeriveSessionKeyECDH: the recipient's side of :meth:`gen_session_key_ecdh`: ECDH of the card's
        key-agreement key with the sender's ephemeral point (``04 ‖ X ‖ Y``), then the X9.63 KDF
        (SHA-256)."""
        zone = self._handle_token(handle, KeyPurpose.KEY_AGREEMENT)
        public = handle.public_key
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise P11Error(Ckr.KEY_HANDLE_INVALID, "the key-agreement key is not an EC key")
        try:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(public.curve, bytes(ephemeral_public_point))
        except ValueError as exc:
            raise P11Error(Ckr.ARGUMENTS_BAD, f"the ephemeral point is invalid: {exc}") from exc
        with _p11():
            shared = zone.ecdh(peer)
        return _session_key(shared, length)

    # -- public-key operations (host side) -----------------------------------------------------------------
    @staticmethod
    def basic_verify(signer: x509.Certificate | PublicKey | KeyHandle, data: bytes, signature: bytes,
                     algorithm: hashes.HashAlgorithm | None = None) -> None:
        """BasicVerify: check a BasicSign signature with the signer's certificate, public key or key
        handle; raises :class:`SignatureInvalidError`."""
        public = _public_of(signer)
        try:
            if isinstance(public, rsa.RSAPublicKey):
                public.verify(signature, data, padding.PKCS1v15(), _hash_of(public, algorithm))
            else:
                public.verify(signature, data, ec.ECDSA(_hash_of(public, algorithm)))
        except (InvalidSignature, ValueError) as exc:
            raise SignatureInvalidError() from exc

    @staticmethod
    def basic_asym_encrypt(recipient: x509.Certificate | PublicKey | KeyHandle, plaintext: bytes) -> bytes:
        """BasicAsymEncrypt: RSA PKCS#1 v1.5 encryption to the recipient's encryption certificate/key."""
        public = _public_of(recipient)
        if not isinstance(public, rsa.RSAPublicKey):
            raise P11Error(Ckr.KEY_FUNCTION_NOT_PERMITTED, "BasicAsymEncrypt needs an RSA key")
        try:
            return public.encrypt(bytes(plaintext), padding.PKCS1v15())
        except ValueError as exc:
            raise P11Error(Ckr.DATA_INVALID, f"cannot encrypt: {exc}") from exc

    def gen_session_key_ecdh(self, recipient: x509.Certificate | PublicKey | KeyHandle,
                             length: int = SESSION_KEY_LENGTH) -> tuple[bytes, bytes]:
        """GenSessionKeyECDH: the sender's side: an ephemeral key pair on the recipient's curve, ECDH with
        the recipient's key-agreement key, the X9.63 KDF (SHA-256). Returns (ephemeral public point
        ``04 ‖ X ‖ Y`` to send, session key)."""
        public = _public_of(recipient)
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise P11Error(Ckr.KEY_FUNCTION_NOT_PERMITTED, "GenSessionKeyECDH needs an EC key")
        try:
            curve = curve_by_name(public.curve.name)
            private = ec.derive_private_key(random_scalar(curve, self._rng), crypto_curve(curve))
        except (CryptoError, KeyError, ValueError) as exc:
            raise P11Error(Ckr.ARGUMENTS_BAD, f"unsupported curve {public.curve.name}: {exc}") from exc
        point = private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return point, _session_key(private.exchange(ec.ECDH(), public), length)

    # -- certificates ---------------------------------------------------------------------------------------
    def _certificates(self, slot_id: int) -> dict[int, x509.Certificate]:
        token = self._session_token(slot_id)
        if token.certificates is None:
            try:
                with _p11():
                    token.certificates = self._zone(token).certificates()
            except P11Error as exc:
                if exc.code is not Ckr.OBJECT_HANDLE_INVALID:
                    raise
                token.certificates = {}  # the zone is closed: the citizen opted out
        return token.certificates

    def get_cert_num(self, slot_id: int) -> int:
        """GetCertNum: how many certificates the card holds (6, or 0 when the zone is closed)."""
        return len(self._certificates(slot_id))

    def get_cert_id(self, slot_id: int, index: int) -> int:
        """GetCertID: the id (CERT number: 1 root, 2 intermediate, 3..6 the key certificates) of the
        ``index``-th certificate (0-based)."""
        ids = sorted(self._certificates(slot_id))
        if not 0 <= index < len(ids):
            raise P11Error(Ckr.ARGUMENTS_BAD, f"the token has {len(ids)} certificates, not {index + 1}")
        return ids[index]

    def get_cert(self, slot_id: int, cert_id: int) -> x509.Certificate:
        """GetCert: the certificate ``cert_id`` (FreeCert: a value, nothing to free)."""
        if cert_id not in _CERT_NUMBERS:
            raise P11Error(Ckr.ARGUMENTS_BAD, f"certificate ids are {_CERT_NUMBERS[0]}..{_CERT_NUMBERS[-1]}")
        cert = self._certificates(slot_id).get(cert_id)
        if cert is None:
            raise P11Error(Ckr.OBJECT_HANDLE_INVALID, f"the token has no certificate {cert_id}")
        return cert

    def get_signature_cert(self, slot_id: int, key_type: KeyType = KeyType.RSA_2048) -> x509.Certificate:
        """GetSignatureCert: the certificate of the RSA (default) or EC signing key."""
        key = CertificateKey.RSA_SIGN if key_type is KeyType.RSA_2048 else CertificateKey.EC_SIGN
        return self.get_cert(slot_id, key.certificate_number)

    def get_encipherment_cert(self, slot_id: int, key_type: KeyType = KeyType.RSA_2048) -> x509.Certificate:
        """GetEnciphermentCert: the certificate of the RSA encryption key (default) or the EC key-agreement
        key."""
        key = CertificateKey.RSA_ENCRYPT if key_type is KeyType.RSA_2048 else CertificateKey.EC_KEY_AGREEMENT
        return self.get_cert(slot_id, key.certificate_number)
