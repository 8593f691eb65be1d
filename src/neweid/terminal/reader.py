"""The API a programmer uses to read a New eID card (N_eID-API, API-1): open the secure channel with the
CAN or the MRZ, read the zones with Passive Authentication, check the chip with Active Authentication,
and manage PIN1, PIN2 and the user code (CARD-2, CARD-3, CARD-4, CARD-5).

Example::

    with NewEidReader(InProcessTransport(card, Interface.CONTACTLESS), [csca]) as reader:
        region = reader.read_household()
        reader.open_with_can("123456")
        public = reader.read_public()
        reader.active_authentication()

    with NewEidReader(InProcessTransport(card, Interface.CONTACT), [csca]) as reader:
        reader.open_with_can("123456")
        reader.authenticate_terminal(credentials)      # TA then CA (EAC)
        fields = reader.read_encrypted(pin1="123456")  # only the fields the terminal may read
        zone = reader.certificate_zone()               # citizen certificates, PIN2 operations

Every failure is a :class:`~neweid.terminal.errors.ReaderError` (see :mod:`neweid.terminal.errors`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType, TracebackType
from typing import Self, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from neweid.crypto.aa import verify_challenge
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.crypto.passive import PassiveAuthenticationError, verify_zone
from neweid.formats.chat import NeidRight
from neweid.formats.errors import FormatError
from neweid.formats.filemap import EF_CARD_SECURITY_FID, Interface, Zone, zone_spec
from neweid.formats.iso7816 import Ins, PasswordRef, PinRef, StatusWord
from neweid.formats.zones import (
    AaPublicKey,
    Birthplace,
    CanDG,
    FatherName,
    HouseholdZone,
    MotherName,
    PublicZone,
    SexDG,
    SpouseName,
)
from neweid.terminal.apdu import MAX_SHORT_NE, Response
from neweid.terminal.certzone import CertificateZone
from neweid.terminal.eac import EacResult, EacTerminal, TerminalAuthenticator
from neweid.terminal.errors import (
    AccessDenied,
    CardNotGenuine,
    CardStatusError,
    DataTampered,
    InterfaceNotAllowed,
    InvalidInputError,
    PinBlocked,
    PinIncorrect,
    PinNotSet,
    UserCodeNotChanged,
    pin_name,
)
from neweid.terminal.session import CardSession
from neweid.terminal.transport import Transport

__all__ = ["EncryptedFields", "NewEidReader", "PinState", "PinStatus", "ZoneData"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

EF_CARD_SECURITY_SFI = 0x1D
AA_CHALLENGE_LENGTH = 8
_AA_PUBLIC_KEY_DG = 15
_CHANGE_AFTER_VERIFY = 0x01  # CHANGE REFERENCE DATA P1: new value only, old one verified before
_RESET_WITH_NEW_PIN = 0x02  # RESET RETRY COUNTER P1
_RESET_ONLY = 0x03


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PinState(Enum):
    VERIFIED = "verified"  # verified in this session
    NOT_VERIFIED = "not verified"
    BLOCKED = "blocked"
    NOT_SET = "not set"


@dataclass(frozen=True)
class PinStatus:
    """What the card says about a PIN without consuming a try (VERIFY with no data)."""

    ref: PinRef
    state: PinState
    tries_left: int | None  # None when the card does not say (verified, not set)

    @property
    def verified(self) -> bool:
        return self.state is PinState.VERIFIED

    @property
    def blocked(self) -> bool:
        return self.state is PinState.BLOCKED

    @property
    def not_set(self) -> bool:
        return self.state is PinState.NOT_SET


@dataclass(frozen=True)
class ZoneData:
    """The raw files of one zone: data groups (or certificates) by number, and EF.SOD when present."""

    zone: Zone
    data_groups: Mapping[int, bytes] = field(default_factory=lambda: MappingProxyType({}))
    sod: bytes | None = None


@dataclass(frozen=True)
class EncryptedFields:
    """The encrypted-zone fields a terminal was allowed to read (CARD-2, CARD-3).

    A field is ``None`` when the terminal's effective CHAT does not grant it (it was not read); a
    granted name field holds its data group, whose ``name`` may itself be None (e.g. no spouse).
    ``rights`` are the read rights the chain granted; ``terminal_chr`` names the terminal."""

    rights: NeidRight
    terminal_chr: str
    spouse: SpouseName | None = None
    father: FatherName | None = None
    mother: MotherName | None = None
    birthplace: Birthplace | None = None
    sex: SexDG | None = None
    can: CanDG | None = None

    @property
    def fields_read(self) -> tuple[str, ...]:
        """The names (``formats.chat.FIELD_RIGHTS`` keys) of the fields that were read."""
        return tuple(name for name in _FIELD_DGS if getattr(self, name) is not None)


_FIELD_DGS: dict[str, int] = {"spouse": 1, "father": 2, "mother": 3, "birthplace": 4, "sex": 5, "can": 6}


def _pin_bytes(ref: PinRef, value: str) -> bytes:
    if not value:
        raise InvalidInputError(f"{pin_name(ref)} must not be empty")
    if not value.isascii() or not value.isprintable():
        raise InvalidInputError(f"{pin_name(ref)} must be printable ASCII "
                                "(digits, or letters for the user code)")
    return value.encode("ascii")


class NewEidReader:
    """Read and manage one New eID card over a transport.

    ``trust_anchors``: the CSCA certificates Passive Authentication accepts. ``now`` gives the time at
    which certificates must be valid; ``rng`` feeds PACE."""

    def __init__(self, transport: Transport, trust_anchors: Iterable[x509.Certificate], *,
                 now: Callable[[], datetime] = _utc_now, rng: Callable[[int], bytes] = os.urandom,
                 extended_length: bool | None = None) -> None:
        self._session = CardSession(transport, rng=rng, extended_length=extended_length)
        self._trust_anchors = list(trust_anchors)
        self._now = now
        self._rng = rng
        self._aa_key_der: bytes | None = None  # DG15 after Passive Authentication
        self._eac: EacResult | None = None  # after Terminal and Chip Authentication

    @property
    def session(self) -> CardSession:
        return self._session

    @property
    def interface(self) -> Interface:
        return self._session.interface

    def uid(self) -> bytes | None:
        """The random contactless UID of this power-up (CARD-8), None on the contact interface."""
        return self._session.transport.uid()

    def close(self) -> None:
        self._session.end_secure_messaging()
        self._session.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- secure channel --------------------------------------------------------------------------
    def open_with_can(self, can: str) -> None:
        """PACE with the card access number (the last 6 digits of the card serial)."""
        self._open(can, PasswordRef.CAN)

    def open_with_mrz(self, mrz_key_seed: str) -> None:
        """PACE with the MRZ key seed (document number, birth date, expiry, each with check digit;
        :func:`neweid.formats.mrz.mrz_key_seed` builds it)."""
        self._open(mrz_key_seed, PasswordRef.MRZ)

    def _open(self, password: str, ref: PasswordRef) -> None:
        self._aa_key_der = None
        self._eac = None
        self._session.establish_pace(password, ref)

    # -- Extended Access Control -----------------------------------------------------------------
    @property
    def eac(self) -> EacResult | None:
        """What the last :meth:`authenticate_terminal` established (None before, or after a new PACE)."""
        return self._eac if self._session.chip_authenticated else None

    def authenticate_terminal(self, authenticator: TerminalAuthenticator, *, aux: bytes = b"") -> EacResult:
        """Terminal Authentication then Chip Authentication (after PACE, contact interface only).

        EF.CardSecurity is verified against the CSCA first and gives the chip's CA key; CA then proves
        the chip holds it, and secure messaging continues under the CA keys. Raises
        :class:`TerminalNotAuthorised` when the chip refuses the terminal (with the reason),
        :class:`CardNotGenuine` when CA fails, :class:`DataTampered` when EF.CardSecurity does not
        verify, :class:`InterfaceNotAllowed` on the contactless interface."""
        self._eac = None
        terminal = EacTerminal(self._session, authenticator, self._trust_anchors, now=self._now,
                               rng=self._rng, aux=aux)
        self._eac = terminal.run()
        return self._eac

    def read_encrypted(self, pin1: str, *, verify: bool = True) -> EncryptedFields:
        """Verify PIN1 and read exactly the encrypted-zone fields the terminal's CHAT grants, checked by
        Passive Authentication against the zone's EF.SOD (which covers every DG; the ones not read are
        simply not checked). :class:`AccessDenied` without EAC, or when the chip refuses a field."""
        eac = self.eac
        if eac is None:
            raise AccessDenied(StatusWord.SECURITY_STATUS_NOT_SATISFIED,
                               "read the encrypted zone (run authenticate_terminal first)")
        self.verify_pin(PinRef.PIN1, pin1)
        spec = zone_spec(Zone.ENCRYPTED)
        numbers = [f.sfi for f in spec.files if f.name != "SOD" and f.read_right & eac.rights]
        data = self.read_zone_data(Zone.ENCRYPTED, numbers=numbers)
        if verify:
            self._verify(data)
        groups = data.data_groups

        def field(number: int, decoder: Callable[[bytes], _T]) -> _T | None:
            raw = groups.get(number)
            return None if raw is None else self._decode(Zone.ENCRYPTED, lambda: decoder(raw))

        fields = EncryptedFields(
            eac.rights, eac.terminal_chr, spouse=field(1, SpouseName.decode),
            father=field(2, FatherName.decode), mother=field(3, MotherName.decode),
            birthplace=field(4, Birthplace.decode), sex=field(5, SexDG.decode), can=field(6, CanDG.decode))
        log.info("read %d encrypted-zone field(s) for terminal %s", len(groups), eac.terminal_chr)
        return fields

    def certificate_zone(self) -> CertificateZone:
        """The citizen-certificate zone over this session (PACE first; contact interface)."""
        return CertificateZone(self._session, lambda pin: self.verify_pin(PinRef.PIN2, pin))

    # -- zones -----------------------------------------------------------------------------------
    def read_zone_data(self, zone: Zone, *, numbers: Iterable[int] | None = None) -> ZoneData:
        """Select the zone and read its files that exist (6A82 → skipped) and its EF.SOD.

        ``numbers`` limits the data groups read (default: every one of the file map)."""
        spec = zone_spec(zone)
        self._session.select_aid(spec.aid)
        wanted = None if numbers is None else set(numbers)
        groups: dict[int, bytes] = {}
        sod: bytes | None = None
        for file in spec.files:
            is_sod = file.name == "SOD"
            if not is_sod and wanted is not None and file.sfi not in wanted:
                continue
            try:
                content = self._session.read_binary_file(sfi=file.sfi)
            except CardStatusError as exc:
                if exc.sw == StatusWord.FILE_NOT_FOUND:
                    continue
                raise
            if is_sod:
                sod = content
            else:
                groups[file.sfi] = content
        return ZoneData(zone, MappingProxyType(groups), sod)

    def read_zone(self, zone: Zone, *, verify: bool = True) -> dict[int, bytes]:
        """The data groups of a zone by number (certificates by SFI in the certificate zone), checked
        by Passive Authentication when ``verify`` and the zone has a security object."""
        data = self.read_zone_data(zone)
        if verify and zone is not Zone.CERTIFICATE:  # the certificate zone has no security object
            self._verify(data)
        return dict(data.data_groups)

    def _verify(self, data: ZoneData) -> None:
        if data.sod is None:
            raise DataTampered(None, "MALFORMED", f"the {data.zone.value} zone has no EF.SOD")
        try:
            verify_zone(data.sod, dict(data.data_groups), self._trust_anchors, at=self._now())
        except PassiveAuthenticationError as exc:
            reason = getattr(exc.reason, "name", str(exc.reason))
            raise DataTampered(getattr(exc, "data_group", None), reason, str(exc)) from exc
        log.info("Passive Authentication of the %s zone succeeded", data.zone.value)

    def read_household(self, verify: bool = True) -> HouseholdZone:
        """The household zone: readable without any access code, contact or contactless."""
        groups = self.read_zone(Zone.HOUSEHOLD, verify=verify)
        return self._decode(Zone.HOUSEHOLD, lambda: HouseholdZone.from_data_groups(groups))

    def read_public(self, verify: bool = True) -> PublicZone:
        """The public zone (after :meth:`open_with_can` or :meth:`open_with_mrz`)."""
        groups = self.read_zone(Zone.PUBLIC, verify=verify)
        zone = self._decode(Zone.PUBLIC, lambda: PublicZone.from_data_groups(groups))
        if verify and zone.aa_public_key is not None:
            self._aa_key_der = zone.aa_public_key.subject_public_key_info
        return zone

    @staticmethod
    def _decode(zone: Zone, decode: Callable[[], _T]) -> _T:
        try:
            return decode()
        except (FormatError, ValueError) as exc:
            raise DataTampered(None, "MALFORMED", f"{zone.value} zone: {exc}") from exc

    def read_card_security(self) -> bytes:
        """EF.CardSecurity (SignedData over the SecurityInfos), readable after PACE."""
        self._session.select_mf()
        try:
            return self._session.read_binary_file(sfi=EF_CARD_SECURITY_SFI)
        except CardStatusError as exc:
            if exc.sw == StatusWord.FILE_NOT_FOUND:
                message = f"EF.CardSecurity ({EF_CARD_SECURITY_FID:04X}) not found"
                raise CardStatusError(exc.sw, message) from exc
            raise

    # -- Active Authentication -------------------------------------------------------------------
    def _verified_aa_key(self) -> bytes:
        if self._aa_key_der is None:
            data = self.read_zone_data(Zone.PUBLIC, numbers=(_AA_PUBLIC_KEY_DG,))
            self._verify(data)  # the security object covers DG15: a partial check is enough
            dg15 = data.data_groups.get(_AA_PUBLIC_KEY_DG)
            if dg15 is None:
                raise CardNotGenuine("the card has no Active Authentication key (public zone DG15)")
            key = self._decode(Zone.PUBLIC, lambda: AaPublicKey.decode(dg15))
            self._aa_key_der = key.subject_public_key_info
        return self._aa_key_der

    def active_authentication(self, rng: Callable[[int], bytes] = os.urandom) -> None:
        """Challenge the chip to sign a random nonce with its AA key, checked against DG15 (itself
        checked by Passive Authentication). Raises :class:`CardNotGenuine` on failure."""
        spki = self._verified_aa_key()
        try:
            public_key = load_der_public_key(spki)
        except (ValueError, TypeError) as exc:
            raise CardNotGenuine(f"DG15 holds an unusable public key: {exc}") from exc
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise CardNotGenuine("DG15 does not hold an EC public key")
        challenge = rng(AA_CHALLENGE_LENGTH)
        if len(challenge) != AA_CHALLENGE_LENGTH:
            raise InvalidInputError(f"rng returned {len(challenge)} bytes, not {AA_CHALLENGE_LENGTH}")
        response = self._session.send(0x00, Ins.INTERNAL_AUTHENTICATE, 0x00, 0x00, challenge, MAX_SHORT_NE)
        self._session.raise_for_status(response, "Active Authentication")
        try:
            verify_challenge(public_key, challenge, response.data)
        except (AuthenticationError, CryptoError) as exc:
            raise CardNotGenuine("Active Authentication failed: the chip's signature does not verify "
                                 "with the DG15 key") from exc
        log.info("Active Authentication succeeded")

    # -- PINs ------------------------------------------------------------------------------------
    def _raise_for_pin(self, response: Response, ref: PinRef, what: str) -> None:
        sw = response.sw
        if sw == StatusWord.SUCCESS:
            return
        if sw & 0xFFF0 == 0x63C0:
            tries = sw & 0x0F
            if tries == 0:
                raise PinBlocked(ref, sw)
            raise PinIncorrect(ref, tries)
        if sw == StatusWord.AUTHENTICATION_METHOD_BLOCKED:
            raise PinBlocked(ref, sw)
        if sw == StatusWord.REFERENCE_DATA_NOT_USABLE:
            raise PinNotSet(ref)
        if sw == StatusWord.WRONG_DATA:
            raise InvalidInputError(f"the card rejected the format of {pin_name(ref)} (PIN1: 6 digits, PIN2: "
                               "8-12 digits, user code: 6-10 letters or digits); no try was used")
        if sw == StatusWord.CONDITIONS_NOT_SATISFIED and self.interface is Interface.CONTACTLESS:
            raise InterfaceNotAllowed(sw, what)
        if sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED:
            raise AccessDenied(sw, what)
        self._session.raise_for_status(response, what)

    def verify_pin(self, ref: PinRef, pin: str) -> None:
        """VERIFY: raises :class:`PinIncorrect` (with the tries left), :class:`PinBlocked`,
        :class:`PinNotSet`, :class:`InterfaceNotAllowed` (contactless), :class:`AccessDenied` (no PACE)."""
        response = self._session.send(0x00, Ins.VERIFY, 0x00, ref, _pin_bytes(ref, pin))
        self._raise_for_pin(response, ref, f"verify {pin_name(ref)}")

    def pin_status(self, ref: PinRef) -> PinStatus:
        """Ask the card about a PIN without using a try."""
        response = self._session.send(0x00, Ins.VERIFY, 0x00, ref)
        sw = response.sw
        if sw == StatusWord.SUCCESS:
            return PinStatus(ref, PinState.VERIFIED, None)
        if sw & 0xFFF0 == 0x63C0 and sw & 0x0F:
            return PinStatus(ref, PinState.NOT_VERIFIED, sw & 0x0F)
        if sw == StatusWord.AUTHENTICATION_METHOD_BLOCKED or sw & 0xFFF0 == 0x63C0:
            return PinStatus(ref, PinState.BLOCKED, 0)
        if sw == StatusWord.REFERENCE_DATA_NOT_USABLE:
            return PinStatus(ref, PinState.NOT_SET, None)
        self._raise_for_pin(response, ref, f"status of {pin_name(ref)}")
        raise CardStatusError(sw)  # not reached: _raise_for_pin raised

    def change_pin(self, ref: PinRef, old: str, new: str) -> None:
        """Verify the old value, then set the new one (CHANGE REFERENCE DATA, P1 01)."""
        new_bytes = _pin_bytes(ref, new)
        self.verify_pin(ref, old)
        response = self._session.send(0x00, Ins.CHANGE_REFERENCE_DATA, _CHANGE_AFTER_VERIFY, ref, new_bytes)
        self._raise_for_pin(response, ref, f"change {pin_name(ref)}")

    def change_user_code(self, old: str, new: str) -> None:
        """Change the user code (the default one of the pickup confirmation must be changed first)."""
        self.change_pin(PinRef.USER_CODE, old, new)

    def unblock_pin(self, ref: PinRef, user_code: str, new_pin: str | None = None) -> None:
        """With the user code: set a new PIN1/PIN2 and reset its counter (also the initial PIN), or
        only reset the counter when ``new_pin`` is None."""
        if ref is PinRef.USER_CODE:
            raise InvalidInputError("the user code cannot unblock itself")
        new_bytes = None if new_pin is None else _pin_bytes(ref, new_pin)
        self.verify_pin(PinRef.USER_CODE, user_code)
        if new_bytes is None:
            response = self._session.send(0x00, Ins.RESET_RETRY_COUNTER, _RESET_ONLY, ref)
        else:
            response = self._session.send(0x00, Ins.RESET_RETRY_COUNTER, _RESET_WITH_NEW_PIN, ref, new_bytes)
        if response.sw == StatusWord.CONDITIONS_NOT_SATISFIED and self.interface is Interface.CONTACT:
            raise UserCodeNotChanged()
        self._raise_for_pin(response, ref, f"unblock {pin_name(ref)}")

