"""A session with one card: plain and secure-messaging APDU exchange, file selection and reading, and
PACE (docs/protocol-profile.md).

:class:`CardSession` owns a :class:`~neweid.terminal.transport.Transport` and, once PACE has succeeded,
a :class:`~neweid.crypto.sm.SecureMessaging` object that protects every further command. Status words
come back as :class:`Response` values from :meth:`CardSession.send`; the helpers (``select_*``,
``read_binary_file``, ``establish_pace``) raise :mod:`neweid.terminal.errors` exceptions instead.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from enum import Enum

from asn1crypto.core import ObjectIdentifier

from neweid.crypto.ec import Curve, curve_by_param_id
from neweid.crypto.errors import AuthenticationError, CryptoError
from neweid.crypto.pace import PaceSuite, PaceTerminal, password_from_can, password_from_mrz, suite_by_oid
from neweid.crypto.sm import SecureMessaging
from neweid.formats.errors import FormatError
from neweid.formats.filemap import EF_CARD_ACCESS_FID, MF_FID, Interface
from neweid.formats.iso7816 import Ins, PasswordRef, StatusWord, describe_sw
from neweid.formats.security_infos import PACEInfo, decode_security_infos
from neweid.formats.tlv import TlvError, encode_tlv, find_tlv, parse_tlvs
from neweid.terminal.apdu import MAX_EXTENDED_NE, MAX_SHORT_NE, Response, build_apdu
from neweid.terminal.atr import parse_atr
from neweid.terminal.errors import (
    AccessDenied,
    CardStatusError,
    InterfaceNotAllowed,
    InvalidInputError,
    ReaderError,
    SecureChannelError,
    TransportError,
    WrongAccessCode,
)
from neweid.terminal.transport import Transport

__all__ = ["CardSession", "SessionState"]

log = logging.getLogger(__name__)

EF_CARD_ACCESS_SFI = 0x1C
SM_CHUNK = 223  # largest READ BINARY answer whose protected form fits a short response
CHAINING = 0x10
MAX_OFFSET = 0x7FFF  # READ BINARY with a 15-bit offset in P1P2
MAX_SFI_OFFSET = 0xFF
_MAX_RESPONSE = 0x20000  # bound on GET RESPONSE accumulation
_CAN = re.compile(r"[0-9]{6}")
_MRZ_SEED = re.compile(r"[0-9A-Z<]{24,}")

# GENERAL AUTHENTICATE dynamic authentication data (TR-03110-3 B.1.2)
_DYNAMIC_AUTH_DATA = 0x7C
_GA_NONCE, _GA_MAP_PCD, _GA_MAP_PICC, _GA_EPH_PCD, _GA_EPH_PICC, _GA_TOKEN_PCD, _GA_TOKEN_PICC = (
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86)
_MSE_SET_AT_PACE = (0xC1, 0xA4)


class SessionState(Enum):
    PLAIN = "plain"
    SECURE_MESSAGING = "secure messaging"


def _tlv_total_length(head: bytes) -> int | None:
    """Total length (header included) of the BER-TLV that starts ``head``, or None when the header is
    not complete or not a definite-length TLV."""
    if not head or head[0] in (0x00, 0xFF):
        return None
    i = 1
    if head[0] & 0x1F == 0x1F:
        while i < len(head) and head[i] & 0x80:
            i += 1
        i += 1
    if i >= len(head):
        return None
    first = head[i]
    i += 1
    if first < 0x80:
        return i + first
    count = first & 0x7F
    if count == 0 or count > 4 or i + count > len(head):
        return None
    return i + count + int.from_bytes(head[i:i + count], "big")


def _oid_contents(oid: str) -> bytes:
    try:
        return bytes(ObjectIdentifier(oid).contents)
    except ValueError as exc:
        raise InvalidInputError(f"not an object identifier: {oid!r}") from exc


class CardSession:
    """APDU exchange with one card over a transport, plain until PACE and protected afterwards.

    ``extended_length``: whether to use extended-length READ BINARY; None lets the card's ATR decide.
    ``rng`` feeds PACE's ephemeral keys."""

    def __init__(self, transport: Transport, *, rng: Callable[[int], bytes] = os.urandom,
                 extended_length: bool | None = None) -> None:
        self._transport = transport
        self._rng = rng
        self._sm: SecureMessaging | None = None
        self.pace_ref: PasswordRef | None = None
        self._pace_curve: Curve | None = None
        self._pace_chip_key: bytes | None = None  # the chip's PACE ephemeral public key (04||X||Y)
        self.chip_authenticated = False  # secure messaging runs under Chip Authentication's keys
        if extended_length is None:
            try:
                extended_length = parse_atr(transport.atr).extended_length
            except InvalidInputError:
                extended_length = False
        self.extended_length = extended_length

    # -- state -----------------------------------------------------------------------------------
    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def interface(self) -> Interface:
        return self._transport.interface

    @property
    def state(self) -> SessionState:
        return SessionState.PLAIN if self._sm is None else SessionState.SECURE_MESSAGING

    @property
    def secure_messaging_active(self) -> bool:
        return self._sm is not None

    def end_secure_messaging(self) -> None:
        """Forget the session keys (the card ends its SM session at the next plain command)."""
        self._sm = None
        self.pace_ref = None
        self._pace_curve = None
        self._pace_chip_key = None
        self.chip_authenticated = False

    @property
    def pace_curve(self) -> Curve | None:
        """The domain parameters of the current PACE session (None without one)."""
        return self._pace_curve

    @property
    def id_picc(self) -> bytes:
        """ID_PICC for Terminal Authentication: Comp(the chip's PACE ephemeral public key), i.e. its
        x-coordinate (TR-03110-2 §3.3). Raises :class:`SecureChannelError` without a PACE session."""
        if self._pace_chip_key is None or self._pace_curve is None or self._sm is None:
            raise SecureChannelError("no PACE session: run PACE before Terminal Authentication")
        return self._pace_chip_key[1:1 + self._pace_curve.byte_len]

    def restart_secure_messaging(self, k_enc: bytes, k_mac: bytes) -> None:
        """Switch the open secure channel to new keys with SSC 0 (after Chip Authentication)."""
        if self._sm is None:
            raise SecureChannelError("no secure channel to restart")
        self._sm = SecureMessaging(k_enc, k_mac, 0)
        self.chip_authenticated = True

    # -- APDU exchange ---------------------------------------------------------------------------
    def send(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"",
             le: int | None = None) -> Response:
        """Send one command, SM-protected when a secure channel is open, and return the response.

        ``cla`` is the plain class byte (``00``, or ``10`` for chaining); secure messaging sets its
        SM bits. A ``6Cxx`` answer is retried once with the exact length."""
        response = self._exchange(cla, ins, p1, p2, data, le)
        if response.sw1 == 0x6C:
            response = self._exchange(cla, ins, p1, p2, data, response.sw2 or MAX_SHORT_NE)
        return response

    def send_long(self, ins: int, p1: int, p2: int, data: bytes, le: int | None = None) -> Response:
        """Send a command whose data may exceed a short APDU: in one extended-length command when the
        card supports it, else by command chaining (CLA bit ``10``) in pieces that fit a short APDU
        once protected. Returns the response to the last piece (or the first error)."""
        limit = SM_CHUNK if self._sm is not None else MAX_SHORT_NE - 1
        if len(data) <= limit or self.extended_length:
            return self.send(0x00, ins, p1, p2, data, le)
        pieces = [data[i:i + limit] for i in range(0, len(data), limit)]
        for piece in pieces[:-1]:
            response = self.send(CHAINING, ins, p1, p2, piece)
            if response.sw != StatusWord.SUCCESS:
                return response
        return self.send(0x00, ins, p1, p2, pieces[-1], le)

    def _exchange(self, cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> Response:
        sm = self._sm
        if sm is None:
            return Response.parse(self._transmit(build_apdu(cla, ins, p1, p2, data, le)))
        try:
            apdu = sm.wrap_command(cla, ins, p1, p2, data, le)
        except CryptoError as exc:
            raise InvalidInputError(f"cannot protect the command: {exc}") from exc
        raw = self._transmit(apdu)
        try:
            plain, sw = sm.unwrap_response(raw)
        except CryptoError as exc:  # SecureMessagingError, or a cryptogram that does not decrypt
            self.end_secure_messaging()
            raise SecureChannelError(f"secure messaging failed, the secure channel is closed ({exc}); "
                                     "run PACE again") from exc
        return Response(plain, sw)

    def _transmit(self, apdu: bytes) -> bytes:
        raw = self._transport.transmit(apdu)
        if len(raw) < 2:
            raise TransportError(f"response too short ({len(raw)} bytes): no status word")
        collected = b""
        while raw[-2] == 0x61:  # T=0: more bytes waiting, fetched with plain GET RESPONSE
            collected += raw[:-2]
            if len(collected) > _MAX_RESPONSE:
                raise TransportError("the card keeps answering 61xx: response too long")
            get_response = build_apdu(0x00, Ins.GET_RESPONSE, 0, 0, le=raw[-1] or MAX_SHORT_NE)
            raw = self._transport.transmit(get_response)
            if len(raw) < 2:
                raise TransportError(f"response too short ({len(raw)} bytes): no status word")
        return collected + raw

    def raise_for_status(self, response: Response, what: str) -> None:
        """Turn a status word other than 9000 into the matching :class:`ReaderError`."""
        sw = response.sw
        if sw == StatusWord.SUCCESS:
            return
        if sw == StatusWord.SECURITY_STATUS_NOT_SATISFIED:
            raise AccessDenied(sw, what)
        if sw == StatusWord.CONDITIONS_NOT_SATISFIED and self.interface is Interface.CONTACTLESS:
            raise InterfaceNotAllowed(sw, what)
        raise CardStatusError(sw, f"{what}: card answered {sw:04X} ({describe_sw(sw)})")

    # -- files -------------------------------------------------------------------------------------
    def select_mf(self) -> None:
        self.raise_for_status(self.send(0x00, Ins.SELECT, 0x00, 0x0C, MF_FID.to_bytes(2, "big")),
                              "select the master file")

    def select_aid(self, aid: bytes) -> None:
        if not 1 <= len(aid) <= 16:
            raise InvalidInputError("an AID has 1 to 16 bytes")
        self.raise_for_status(self.send(0x00, Ins.SELECT, 0x04, 0x0C, aid), f"select application {aid.hex()}")

    def select_ef(self, fid: int) -> None:
        if not 0 <= fid <= 0xFFFF:
            raise InvalidInputError(f"a file identifier has 2 bytes, got {fid:#x}")
        self.raise_for_status(self.send(0x00, Ins.SELECT, 0x02, 0x0C, fid.to_bytes(2, "big")),
                              f"select file {fid:04X}")

    def read_binary(self, offset: int, le: int, *, sfi: int | None = None) -> Response:
        """One READ BINARY: by SFI (selects the EF; offset ≤ 255) or in the current EF (offset ≤ 7FFF)."""
        if sfi is not None:
            if not 1 <= sfi <= 30 or not 0 <= offset <= MAX_SFI_OFFSET:
                raise InvalidInputError(f"SFI {sfi} / offset {offset} out of range")
            p1, p2 = 0x80 | sfi, offset
        else:
            if not 0 <= offset <= MAX_OFFSET:
                raise InvalidInputError(f"READ BINARY offset {offset} beyond {MAX_OFFSET:#x}")
            p1, p2 = offset >> 8, offset & 0xFF
        return self.send(0x00, Ins.READ_BINARY, p1, p2, le=le)

    def read_binary_file(self, fid: int | None = None, *, sfi: int | None = None,
                         whole_tlv: bool = True) -> bytes:
        """Read an EF (selected by FID, or by SFI in the current DF) to its end.

        With ``whole_tlv`` (files holding one BER-TLV, as every DG, SOD and certificate does), the first
        chunk's TLV header gives the length, the rest is read in one extended-length command when the
        card supports it (else in chunks of at most 223 bytes under SM, 256 plain) and exactly that TLV
        is returned. Without it, the file is read until the card signals its end."""
        if (fid is None) == (sfi is None):
            raise InvalidInputError("give exactly one of fid and sfi")
        what = f"read file {fid:04X}" if fid is not None else f"read file SFI {sfi:02X}"
        chunk = SM_CHUNK if self._sm is not None else MAX_SHORT_NE
        if fid is not None:
            self.select_ef(fid)
            first = self.read_binary(0, chunk)
        else:
            first = self.read_binary(0, chunk, sfi=sfi)
        if first.sw == StatusWord.WRONG_P1P2:  # offset 0 beyond the end: empty file
            return b""
        if not first.ok:
            self.raise_for_status(first, what)
        data = first.data
        total = _tlv_total_length(data) if whole_tlv else None
        if len(data) < chunk:
            return data[:total] if total is not None else data
        cap = MAX_EXTENDED_NE // 2 if self._sm is not None else MAX_EXTENDED_NE
        while total is None or len(data) < total:
            remaining = None if total is None else total - len(data)
            want = min(remaining or cap, cap) if self.extended_length else min(remaining or chunk, chunk)
            offset = len(data)
            if offset > MAX_OFFSET:
                raise ReaderError(f"{what}: file longer than READ BINARY can address "
                                  f"({MAX_OFFSET + 1} bytes)")
            response = self.read_binary(offset, want)
            if response.sw == StatusWord.WRONG_P1P2:
                break
            if not response.ok:
                self.raise_for_status(response, what)
            data += response.data
            if len(response.data) < want:
                break
        return data[:total] if total is not None else data

    # -- PACE ------------------------------------------------------------------------------------
    def read_card_access(self) -> list[PACEInfo]:
        """Read EF.CardAccess (plain, MF) and return its PACEInfos."""
        self.select_mf()
        try:
            raw = self.read_binary_file(sfi=EF_CARD_ACCESS_SFI)
        except CardStatusError as exc:
            raise SecureChannelError(f"cannot read EF.CardAccess ({EF_CARD_ACCESS_FID:04X}): {exc}") from exc
        try:
            infos = decode_security_infos(raw)
        except (FormatError, ValueError) as exc:
            raise SecureChannelError(f"EF.CardAccess cannot be decoded: {exc}") from exc
        return [info for info in infos if isinstance(info, PACEInfo)]

    @staticmethod
    def choose_pace(infos: list[PACEInfo]) -> tuple[PaceSuite, Curve, int]:
        """The strongest PACEInfo this terminal supports: (suite, curve, parameter id)."""
        usable: list[tuple[PaceSuite, Curve, int]] = []
        for info in infos:
            if info.parameter_id is None:
                continue
            try:
                suite = suite_by_oid(info.protocol)
                curve = curve_by_param_id(info.parameter_id)
            except (CryptoError, KeyError, ValueError):
                continue
            usable.append((suite, curve, info.parameter_id))
        if not usable:
            raise SecureChannelError("the card offers no PACE protocol this terminal supports")
        return max(usable, key=lambda entry: (entry[0].key_len, entry[1].byte_len))

    def establish_pace(self, password: str, ref: PasswordRef) -> None:
        """Run PACE with the CAN or the MRZ key seed and open the secure channel.

        Raises :class:`InvalidInputError` for a malformed password, :class:`WrongAccessCode` when the card
        rejects it, :class:`SecureChannelError` for any other failure."""
        if ref is PasswordRef.CAN:
            if not _CAN.fullmatch(password):
                raise InvalidInputError("the CAN is the 6 digits printed on the card")
            secret = password_from_can(password)
        elif ref is PasswordRef.MRZ:
            if not _MRZ_SEED.fullmatch(password):
                raise InvalidInputError("the MRZ key seed is document number, date of birth and date of "
                                        "expiry, each with its check digit (at least 24 characters "
                                        "0-9 A-Z <)")
            secret = password_from_mrz(password)
        else:
            raise InvalidInputError(f"unsupported PACE password reference {ref!r}")
        self.end_secure_messaging()
        suite, curve, param_id = self.choose_pace(self.read_card_access())
        pace = PaceTerminal(curve, suite, secret, self._rng)
        mse = (encode_tlv(0x80, _oid_contents(suite.oid)) + encode_tlv(0x83, bytes((ref,)))
               + encode_tlv(0x84, bytes((param_id,))))
        response = self.send(0x00, Ins.MANAGE_SECURITY_ENVIRONMENT, *_MSE_SET_AT_PACE, mse)
        if response.sw != StatusWord.SUCCESS:
            raise SecureChannelError(f"MSE:Set AT for PACE refused ({response.sw:04X}, "
                                     f"{describe_sw(response.sw)})")
        try:
            nonce = self._general_authenticate(None, b"", _GA_NONCE)
            chip_map = self._general_authenticate(_GA_MAP_PCD, pace.start(nonce), _GA_MAP_PICC)
            chip_eph = self._general_authenticate(_GA_EPH_PCD, pace.map(chip_map), _GA_EPH_PICC)
            t_picc = self._general_authenticate(_GA_TOKEN_PCD, pace.agree(chip_eph), _GA_TOKEN_PICC,
                                                last=True)
            k_enc, k_mac = pace.finish(t_picc)
        except AuthenticationError as exc:
            raise SecureChannelError("the chip's PACE authentication token is invalid") from exc
        except CryptoError as exc:
            raise SecureChannelError(f"PACE failed: {exc}") from exc
        self._sm = SecureMessaging(k_enc, k_mac, 0)
        self.pace_ref = ref
        self._pace_curve = curve
        self._pace_chip_key = chip_eph
        log.info("PACE established (%s, parameter %d, password %s)", suite.oid, param_id, ref.name)

    def _general_authenticate(self, tag: int | None, value: bytes, answer_tag: int, *,
                              last: bool = False) -> bytes:
        inner = encode_tlv(tag, value) if tag is not None else b""
        cla = 0x00 if last else CHAINING
        response = self.send(cla, Ins.GENERAL_AUTHENTICATE, 0x00, 0x00,
                             encode_tlv(_DYNAMIC_AUTH_DATA, inner), MAX_SHORT_NE)
        if response.sw == StatusWord.AUTHENTICATION_FAILED or response.sw & 0xFFF0 == 0x63C0:
            raise WrongAccessCode()
        if response.sw != StatusWord.SUCCESS:
            raise SecureChannelError(f"GENERAL AUTHENTICATE refused ({response.sw:04X}, "
                                     f"{describe_sw(response.sw)})")
        try:
            outer = parse_tlvs(response.data)
            template = find_tlv(outer, _DYNAMIC_AUTH_DATA)
            item = find_tlv(parse_tlvs(template.value), answer_tag) if template is not None else None
        except TlvError as exc:
            raise SecureChannelError(f"malformed GENERAL AUTHENTICATE response: {exc}") from exc
        if item is None:
            raise SecureChannelError(f"GENERAL AUTHENTICATE response lacks tag {answer_tag:02X}")
        return item.value
