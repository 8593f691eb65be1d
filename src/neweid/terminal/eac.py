"""The terminal side of Extended Access Control (docs/eac-profile.md; CARD-3, CARD-4, PKI-5): Terminal
Authentication version 2 and Chip Authentication version 2, as one explicit state machine over a
:class:`~neweid.terminal.session.CardSession` that already runs PACE.

The order is PACE → (read and verify EF.CardSecurity) → TA → CA::

    PACE_ESTABLISHED ──verify_card_security──▶ CARD_SECURITY_VERIFIED
        ──verify_certificates──▶ CERTIFICATES_VERIFIED ──authenticate_terminal──▶ TERMINAL_AUTHENTICATED
        ──authenticate_chip──▶ CHIP_AUTHENTICATED
    any failure ──▶ FAILED (start again with PACE)

- EF.CardSecurity is checked by Passive Authentication against the CSCA; it names the chip's static
  Chip Authentication key (``ChipAuthenticationPublicKeyInfo``), so that CA proves the chip is the one
  the Document Signer signed for (a cloned chip lacks the private key).
- TA: for each certificate of the chain (DV, then terminal) ``MSE:Set DST {83 CAR}`` and ``PSO:Verify
  Certificate``; then ``MSE:Set AT {80 id-TA, 83 CHR, 91 Comp(ephPK_PCD)}``, ``GET CHALLENGE`` and
  ``EXTERNAL AUTHENTICATE`` with the terminal's signature over ``ID_PICC ‖ r_PICC ‖ Comp(ephPK_PCD)``.
- CA: ``MSE:Set AT {80 id-CA-ECDH-AES-CBC-CMAC-256, 84 key id}`` and ``GENERAL AUTHENTICATE
  7C{80 ephPK_PCD}`` → ``7C{81 r_PICC, 82 T_PICC}``; the terminal checks T_PICC and restarts secure
  messaging with the new keys (SSC 0).

The terminal's key is not imported here: anything that satisfies :class:`TerminalAuthenticator`
(``neweid.pki.eac.TerminalCredentials``, an HSM-held key) will do.
"""

from __future__ import annotations

import datetime
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, runtime_checkable

from asn1crypto.core import ObjectIdentifier
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from neweid.crypto.ca import CaTerminal
from neweid.crypto.ec import Curve, Point, crypto_curve, curve_by_name, encode_point
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.crypto.passive import PassiveAuthenticationError, verify_card_security
from neweid.crypto.ta import ta_signature_input
from neweid.formats.chat import NeidRight, effective_rights
from neweid.formats.cvc import ID_TA_ECDSA_SHA_512, CvCertificate, CvcFormatError, decode_cv_certificate
from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import Ins, StatusWord, describe_sw
from neweid.formats.security_infos import (
    ID_CA_ECDH_AES_CBC_CMAC_256,
    ID_PK_ECDH,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfo,
)
from neweid.formats.tlv import TlvError, encode_tlv, find_tlv, parse_tlvs
from neweid.terminal.apdu import MAX_SHORT_NE
from neweid.terminal.errors import (
    CardNotGenuine,
    CardStatusError,
    DataTampered,
    InterfaceNotAllowed,
    InvalidInputError,
    ReaderError,
    SecureChannelError,
    TerminalNotAuthorised,
)
from neweid.terminal.session import CardSession

__all__ = [
    "ChipAuthenticationKey",
    "EacResult",
    "EacState",
    "EacTerminal",
    "SimpleAuthenticator",
    "TerminalAuthenticator",
    "chip_authentication_key",
]

log = logging.getLogger(__name__)

EF_CARD_SECURITY_SFI = 0x1D
CHALLENGE_LENGTH = 8
CA_KEY_LENGTH = 32  # id-CA-ECDH-AES-CBC-CMAC-256
_TAG_BODY, _TAG_SIGNATURE, _TAG_CAR, _TAG_CHR = 0x7F4E, 0x5F37, 0x83, 0x83
_TAG_OID, _TAG_EPHEMERAL_COMP, _TAG_AUX, _TAG_KEY_ID = 0x80, 0x91, 0x67, 0x84
_DYNAMIC_AUTH_DATA, _CA_EPH_PCD, _CA_NONCE, _CA_TOKEN = 0x7C, 0x80, 0x81, 0x82
# MSE P1P2: set for verification (81) the DST (B6), the AT (A4); for internal use (41) the CA AT
_MSE_SET_DST_TA = (0x81, 0xB6)
_MSE_SET_AT_TA = (0x81, 0xA4)
_MSE_SET_AT_CA = (0x41, 0xA4)
_PSO_VERIFY_CERTIFICATE = (0x00, 0xBE)


def _oid_contents(oid: str) -> bytes:
    return bytes(ObjectIdentifier(oid).contents)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@runtime_checkable
class TerminalAuthenticator(Protocol):
    """A terminal's CV certificate chain and its private key.

    ``chain``: the encoded CV certificates the chip must verify, in order (the DV certificate, then the
    terminal certificate). ``sign`` returns the plain ``r ‖ s`` ECDSA-SHA-512 signature of ``data``
    with the terminal certificate's key. An authenticator may also have ``links``: CVCA link
    certificates (oldest first) offered before the chain to a chip that holds an older trust point
    (``neweid.pki.eac.TerminalCredentials`` has them)."""

    @property
    def chain(self) -> Sequence[bytes]: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class SimpleAuthenticator:
    """A :class:`TerminalAuthenticator` from a chain and a signing function (e.g. an HSM call)."""

    chain: Sequence[bytes]
    signer: Callable[[bytes], bytes]

    def sign(self, data: bytes) -> bytes:
        return self.signer(data)


class EacState(Enum):
    PACE_ESTABLISHED = "PACE established"
    CARD_SECURITY_VERIFIED = "EF.CardSecurity verified"
    CERTIFICATES_VERIFIED = "certificates verified"
    TERMINAL_AUTHENTICATED = "terminal authenticated"
    CHIP_AUTHENTICATED = "chip authenticated"
    FAILED = "failed"


@dataclass(frozen=True)
class ChipAuthenticationKey:
    """The chip's static CA key as EF.CardSecurity names it."""

    protocol: str  # e.g. id-CA-ECDH-AES-CBC-CMAC-256
    key_id: int | None
    curve: Curve
    point: Point

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return ec.EllipticCurvePublicNumbers(self.point[0], self.point[1],
                                             crypto_curve(self.curve)).public_key()


@dataclass(frozen=True)
class EacResult:
    """What EAC established: the terminal certificate's CHR, the rights its chain grants (the AND of
    the DV and terminal CHATs; the chip also ANDs the CVCA's), and the chip's verified CA key."""

    terminal_chr: str
    rights: NeidRight
    chip_key: ChipAuthenticationKey


def chip_authentication_key(infos: Iterable[SecurityInfo]) -> ChipAuthenticationKey:
    """The Chip Authentication key among SecurityInfos: the ``ChipAuthenticationInfo`` this terminal
    supports and the ``ChipAuthenticationPublicKeyInfo`` with the same key id. Raises
    :class:`CardNotGenuine` when there is none (a chip without CA cannot prove it is genuine)."""
    items = list(infos)
    ca_infos = [i for i in items if isinstance(i, ChipAuthenticationInfo)
                and i.protocol == ID_CA_ECDH_AES_CBC_CMAC_256]
    keys = [i for i in items if isinstance(i, ChipAuthenticationPublicKeyInfo) and i.protocol == ID_PK_ECDH]
    if not ca_infos or not keys:
        raise CardNotGenuine("EF.CardSecurity names no Chip Authentication key "
                             "(id-CA-ECDH-AES-CBC-CMAC-256 with an id-PK-ECDH key)")
    for info in ca_infos:
        for key in keys:
            if info.key_id is None or key.key_id is None or info.key_id == key.key_id:
                return ChipAuthenticationKey(info.protocol, info.key_id if info.key_id is not None
                                             else key.key_id, *_decode_spki(key.public_key))
    raise CardNotGenuine("EF.CardSecurity has no ChipAuthenticationPublicKeyInfo for the key id of its "
                         "ChipAuthenticationInfo")


def _decode_spki(spki: bytes) -> tuple[Curve, Point]:
    try:
        public = load_der_public_key(spki)
    except (ValueError, TypeError) as exc:
        raise CardNotGenuine(f"the Chip Authentication key in EF.CardSecurity is unusable: {exc}") from exc
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise CardNotGenuine("the Chip Authentication key in EF.CardSecurity is not an EC key")
    try:
        curve = curve_by_name(public.curve.name)
    except (CryptoError, KeyError, ValueError) as exc:
        raise CardNotGenuine(f"unsupported Chip Authentication curve {public.curve.name}") from exc
    numbers = public.public_numbers()
    return curve, (numbers.x, numbers.y)


class EacTerminal:
    """One run of TA and CA over ``session`` (after PACE, contact interface).

    ``trust_anchors``: the CSCA certificates EF.CardSecurity must chain to; ``now`` the time of that
    check; ``rng`` feeds the terminal's ephemeral CA key; ``aux`` is TA's optional auxiliary data
    (``67``, e.g. age verification; not used by the New eID profile)."""

    def __init__(self, session: CardSession, authenticator: TerminalAuthenticator,
                 trust_anchors: Iterable[x509.Certificate], *,
                 now: Callable[[], datetime.datetime] = _utc_now,
                 rng: Callable[[int], bytes] = os.urandom, aux: bytes = b"") -> None:
        if session.pace_ref is None or not session.secure_messaging_active:
            raise SecureChannelError("EAC needs a PACE session: open the card with the CAN or MRZ first")
        self._session = session
        links: Sequence[bytes] = getattr(authenticator, "links", ())
        self._link_count = len(links)
        self._certificates = self._decode_chain([*links, *authenticator.chain])
        try:
            self._rights = effective_rights(*(cert.body.chat.rights
                                              for cert in self._certificates[self._link_count:]))
        except CvcFormatError as exc:
            raise InvalidInputError(f"the terminal's chain is not of the New eID type: {exc}") from exc
        self._authenticator = authenticator
        self._anchors = list(trust_anchors)
        self._now = now
        self._rng = rng
        self._aux = bytes(aux)
        self._state = EacState.PACE_ESTABLISHED
        self._chip_key: ChipAuthenticationKey | None = None
        self._ca: CaTerminal | None = None  # the terminal's ephemeral CA key, drawn in TA

    @staticmethod
    def _decode_chain(chain: Sequence[bytes]) -> list[CvCertificate]:
        if len(chain) < 1:
            raise InvalidInputError("the terminal's chain is empty: give the DV and terminal certificates")
        certificates = []
        for index, der in enumerate(chain):
            try:
                certificates.append(decode_cv_certificate(bytes(der)))
            except (CvcFormatError, ValueError) as exc:
                raise InvalidInputError(f"certificate {index + 1} of the terminal's chain is not a CV "
                                        f"certificate: {exc}") from exc
        for issuer, subject in itertools.pairwise(certificates):
            if subject.body.car != issuer.body.chr:
                raise InvalidInputError(f"the terminal's chain is out of order: {subject.body.chr} is "
                                        f"issued by {subject.body.car}, not {issuer.body.chr}")
        return certificates

    # -- state -----------------------------------------------------------------------------------
    @property
    def state(self) -> EacState:
        return self._state

    @property
    def terminal_chr(self) -> str:
        return self._certificates[-1].body.chr

    @property
    def rights(self) -> NeidRight:
        """The AND of the rights of the chain's CHATs (CVCA link certificates included if given)."""
        return self._rights

    def _expect(self, state: EacState, step: str) -> None:
        if self._state is not state:
            raise ReaderError(f"{step}: EAC is in state '{self._state.value}', expected '{state.value}'")

    def _fail(self) -> None:
        self._state = EacState.FAILED
        self._ca = None

    def _ta_status(self, response_sw: int, step: str, refusals: dict[int, str]) -> None:
        if response_sw == StatusWord.SUCCESS:
            return
        self._fail()
        if response_sw in refusals:
            raise TerminalNotAuthorised(response_sw, refusals[response_sw])
        contactless = self._session.interface is Interface.CONTACTLESS
        if response_sw == StatusWord.CONDITIONS_NOT_SATISFIED and contactless:
            raise InterfaceNotAllowed(response_sw, step)
        raise CardStatusError(response_sw, f"{step}: card answered {response_sw:04X} "
                                           f"({describe_sw(response_sw)})")

    # -- EF.CardSecurity -------------------------------------------------------------------------
    def verify_card_security(self, card_security: bytes | None = None) -> ChipAuthenticationKey:
        """Read EF.CardSecurity (unless given), verify it against the CSCA and keep the chip's CA key.

        Raises :class:`DataTampered` when its signature does not verify, :class:`CardNotGenuine` when it
        names no usable CA key."""
        self._expect(EacState.PACE_ESTABLISHED, "verify EF.CardSecurity")
        try:
            if card_security is None:
                self._session.select_mf()
                card_security = self._session.read_binary_file(sfi=EF_CARD_SECURITY_SFI)
            try:
                result = verify_card_security(card_security, self._anchors, at=self._now())
            except PassiveAuthenticationError as exc:
                reason = getattr(exc.reason, "name", str(exc.reason))
                raise DataTampered(None, reason, f"EF.CardSecurity: {exc}") from exc
            key = chip_authentication_key(result.security_infos)
        except ReaderError:
            self._fail()
            raise
        self._chip_key = key
        self._state = EacState.CARD_SECURITY_VERIFIED
        return key

    # -- Terminal Authentication -----------------------------------------------------------------
    def verify_certificates(self) -> None:
        """MSE:Set DST + PSO:Verify Certificate for every certificate of the chain."""
        self._expect(EacState.CARD_SECURITY_VERIFIED, "verify the terminal's certificates")
        for index, cert in enumerate(self._certificates):
            car, chr_ = cert.body.car, cert.body.chr
            response = self._session.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, *_MSE_SET_DST_TA,
                                          encode_tlv(_TAG_CAR, car.encode("ascii")))
            if index < self._link_count and response.sw == StatusWord.REFERENCE_DATA_NOT_FOUND:
                log.info("the chip does not know %s: link certificate %s skipped", car, chr_)
                continue  # a link from a trust point this chip never had (or already dropped)
            self._ta_status(response.sw, f"MSE:Set DST {car}", {
                StatusWord.REFERENCE_DATA_NOT_FOUND: f"the card does not know the issuer {car} of {chr_} "
                                                     "(no such CVCA trust point or certificate)",
                StatusWord.SECURITY_STATUS_NOT_SATISFIED: "Terminal Authentication not allowed now"})
            data = cert.body_der + encode_tlv(_TAG_SIGNATURE, cert.signature)
            response = self._session.send_long(Ins.PERFORM_SECURITY_OPERATION, *_PSO_VERIFY_CERTIFICATE, data)
            self._ta_status(response.sw, f"PSO:Verify Certificate {chr_}", {
                StatusWord.AUTHENTICATION_FAILED: f"the signature of {chr_} does not verify with {car}'s key",
                StatusWord.SECURITY_STATUS_NOT_SATISFIED: f"{chr_} is expired or its role is not allowed by "
                                                          f"{car}",
                StatusWord.WRONG_DATA: f"the card cannot parse {chr_}",
                StatusWord.REFERENCE_DATA_NOT_FOUND: f"the card does not know the issuer {car}"})
            log.info("the chip accepted CV certificate %s (issuer %s)", chr_, car)
        self._state = EacState.CERTIFICATES_VERIFIED

    def authenticate_terminal(self) -> None:
        """MSE:Set AT, GET CHALLENGE and EXTERNAL AUTHENTICATE with the terminal's signature. The
        terminal's ephemeral CA key pair is drawn here (its compressed form is bound into the signature)."""
        self._expect(EacState.CERTIFICATES_VERIFIED, "Terminal Authentication")
        key = self._chip_key
        assert key is not None  # by the state
        try:
            self._ca = CaTerminal(key.curve, encode_point(key.curve, key.point), key.protocol, self._rng)
        except CryptoError as exc:
            self._fail()
            raise CardNotGenuine(f"cannot run Chip Authentication with the chip's key: {exc}") from exc
        comp = self._ca.comp_ephemeral
        mse = (encode_tlv(_TAG_OID, _oid_contents(ID_TA_ECDSA_SHA_512))
               + encode_tlv(_TAG_CHR, self.terminal_chr.encode("ascii"))
               + encode_tlv(_TAG_EPHEMERAL_COMP, comp)
               + (encode_tlv(_TAG_AUX, self._aux) if self._aux else b""))
        response = self._session.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, *_MSE_SET_AT_TA, mse)
        self._ta_status(response.sw, "MSE:Set AT (TA)", {
            StatusWord.REFERENCE_DATA_NOT_FOUND: f"the card did not import the terminal certificate "
                                                 f"{self.terminal_chr}",
            StatusWord.WRONG_DATA: "the card refused the TA parameters"})
        response = self._session.send(0x00, Ins.GET_CHALLENGE, 0x00, 0x00, le=CHALLENGE_LENGTH)
        self._ta_status(response.sw, "GET CHALLENGE", {})
        if len(response.data) != CHALLENGE_LENGTH:
            self._fail()
            raise SecureChannelError(f"GET CHALLENGE answered {len(response.data)} bytes, not "
                                     f"{CHALLENGE_LENGTH}")
        message = ta_signature_input(self._session.id_picc, response.data, comp, self._aux)
        signature = self._authenticator.sign(message)
        response = self._session.send(0x00, Ins.EXTERNAL_AUTHENTICATE, 0x00, 0x00, signature)
        self._ta_status(response.sw, "EXTERNAL AUTHENTICATE", {
            StatusWord.AUTHENTICATION_FAILED: "the card rejected the terminal's signature (wrong key for "
                                              f"{self.terminal_chr}?)",
            StatusWord.SECURITY_STATUS_NOT_SATISFIED: "the card refused EXTERNAL AUTHENTICATE",
            StatusWord.REFERENCE_DATA_NOT_FOUND: "no terminal certificate selected"})
        self._state = EacState.TERMINAL_AUTHENTICATED
        log.info("Terminal Authentication of %s succeeded", self.terminal_chr)

    # -- Chip Authentication ---------------------------------------------------------------------
    def authenticate_chip(self) -> None:
        """CA with the ephemeral key bound in TA; checks the chip's token against the key from
        EF.CardSecurity and restarts secure messaging with the new keys. :class:`CardNotGenuine` if
        the chip cannot prove it holds the private key."""
        self._expect(EacState.TERMINAL_AUTHENTICATED, "Chip Authentication")
        key, ca = self._chip_key, self._ca
        assert key is not None and ca is not None  # by the state
        mse = encode_tlv(_TAG_OID, _oid_contents(key.protocol))
        if key.key_id is not None:
            mse += encode_tlv(_TAG_KEY_ID, key.key_id.to_bytes(max(1, (key.key_id.bit_length() + 7) // 8),
                                                               "big"))
        response = self._session.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, *_MSE_SET_AT_CA, mse)
        if response.sw != StatusWord.SUCCESS:
            self._fail()
            raise CardNotGenuine(f"the chip refused Chip Authentication (MSE:Set AT {response.sw:04X}, "
                                 f"{describe_sw(response.sw)})")
        response = self._session.send(
            0x00, Ins.GENERAL_AUTHENTICATE, 0x00, 0x00,
            encode_tlv(_DYNAMIC_AUTH_DATA, encode_tlv(_CA_EPH_PCD, ca.ephemeral_public)), MAX_SHORT_NE)
        if response.sw != StatusWord.SUCCESS:
            self._fail()
            raise CardNotGenuine(f"the chip refused Chip Authentication (GENERAL AUTHENTICATE "
                                 f"{response.sw:04X}, {describe_sw(response.sw)})")
        try:
            template = find_tlv(parse_tlvs(response.data), _DYNAMIC_AUTH_DATA)
            items = parse_tlvs(template.value) if template is not None else []
            nonce, token = find_tlv(items, _CA_NONCE), find_tlv(items, _CA_TOKEN)
        except TlvError as exc:
            self._fail()
            raise CardNotGenuine(f"malformed Chip Authentication response: {exc}") from exc
        if nonce is None or token is None:
            self._fail()
            raise CardNotGenuine("the Chip Authentication response lacks r_PICC or T_PICC")
        try:
            k_enc, k_mac = ca.finish(nonce.value, token.value)
        except AuthenticationError as exc:
            self._fail()
            raise CardNotGenuine("Chip Authentication failed: the chip's token does not match the key "
                                 "in EF.CardSecurity (cloned chip?)") from exc
        except CryptoError as exc:
            self._fail()
            raise CardNotGenuine(f"Chip Authentication failed: {exc}") from exc
        self._session.restart_secure_messaging(k_enc, k_mac)
        self._state = EacState.CHIP_AUTHENTICATED
        log.info("Chip Authentication succeeded; secure messaging restarted with the CA keys")

    def run(self, card_security: bytes | None = None) -> EacResult:
        """EF.CardSecurity → TA → CA in one call."""
        key = self.verify_card_security(card_security)
        self.verify_certificates()
        self.authenticate_terminal()
        self.authenticate_chip()
        return EacResult(self.terminal_chr, self.rights, key)

