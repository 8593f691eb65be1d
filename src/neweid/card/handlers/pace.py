"""PACE on the chip (TR-03110-2 §3.2, TR-03110-3 B.1, B.11): MSE:Set AT and the four GENERAL
AUTHENTICATE steps with dynamic authentication data (tag ``7C``)."""

from __future__ import annotations

import logging

from neweid.card.apdu import CommandApdu
from neweid.card.eac import EacSession
from neweid.card.errors import CardError
from neweid.card.state import CardContext, PaceRun, PaceStep
from neweid.crypto.ec import curve_by_param_id
from neweid.crypto.errors import AuthenticationError, CryptoError, InvalidPointError
from neweid.crypto.pace import (
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    PaceChip,
    password_from_can,
    password_from_mrz,
    suite_by_oid,
)
from neweid.crypto.sm import SecureMessaging
from neweid.crypto.ta import compress_point
from neweid.formats.iso7816 import PasswordRef, StatusWord
from neweid.formats.tlv import Tlv, TlvError, encode_tlv, find_tlv, parse_tlvs

_log = logging.getLogger(__name__)

MSE_SET_AT_PACE = 0xC1A4
PACE_PARAM_ID = 18  # standardised domain parameters 18: NIST P-521 (the card's PACEInfo)
TAG_DYNAMIC_AUTH = 0x7C

# GENERAL AUTHENTICATE step → (tag expected in the command, tag of the answer)
_STEP_TAGS: dict[PaceStep, tuple[int | None, int]] = {
    PaceStep.NONCE: (None, 0x80),
    PaceStep.MAP: (0x81, 0x82),
    PaceStep.AGREE: (0x83, 0x84),
    PaceStep.FINISH: (0x85, 0x86),
}


def decode_oid(content: bytes) -> str:
    """The dotted form of the content octets of a DER OBJECT IDENTIFIER; raises ``CardError(6A80)``."""
    if not content or content[-1] & 0x80:
        raise CardError(StatusWord.WRONG_DATA, "malformed OID")
    arcs: list[int] = []
    value = 0
    for i, byte in enumerate(content):
        if value == 0 and byte == 0x80 and (i == 0 or not content[i - 1] & 0x80):
            raise CardError(StatusWord.WRONG_DATA, "OID arc not minimally encoded")
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def _parse(data: bytes) -> list[Tlv]:
    try:
        return parse_tlvs(data)
    except TlvError as exc:
        raise CardError(StatusWord.WRONG_DATA, f"malformed data objects: {exc}") from None


def manage_security_environment(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """MSE:Set AT for PACE: ``{80 OID, 83 password ref, [84 param id], [7F4C CHAT]}``."""
    if apdu.p1p2 != MSE_SET_AT_PACE:
        raise CardError(StatusWord.INCORRECT_P1P2, "only MSE:Set AT for PACE (C1A4) is supported")
    session = ctx.session
    session.end_secure_session()  # a new PACE run ends any current SM session
    items = _parse(apdu.data)
    oid_do, ref_do, param_do = (find_tlv(items, tag) for tag in (0x80, 0x83, 0x84))
    if oid_do is None or ref_do is None:
        raise CardError(StatusWord.WRONG_DATA, "MSE:Set AT needs DO 80 and DO 83")
    oid = decode_oid(oid_do.value)
    if oid != ID_PACE_ECDH_GM_AES_CBC_CMAC_256:
        raise CardError(StatusWord.WRONG_DATA, "PACE protocol not supported")
    try:
        suite = suite_by_oid(oid)
    except (CryptoError, KeyError) as exc:
        raise CardError(StatusWord.WRONG_DATA, "PACE protocol not supported") from exc
    if len(ref_do.value) != 1 or ref_do.value[0] not in set(PasswordRef):
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, "password reference not supported")
    ref = PasswordRef(ref_do.value[0])
    if param_do is not None and int.from_bytes(param_do.value, "big") != PACE_PARAM_ID:
        raise CardError(StatusWord.WRONG_DATA, "domain parameters not supported")
    state = ctx.persistent
    if ref is PasswordRef.CAN:
        if state.can is None:
            raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "no CAN on the card")
        password = password_from_can(state.can)
    else:
        if state.mrz_seed is None:
            raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, "no MRZ on the card")
        password = password_from_mrz(state.mrz_seed)
    chip = PaceChip(curve_by_param_id(PACE_PARAM_ID), suite, password, ctx.rng)
    session.pace = PaceRun(ref, chip)
    return b""


def general_authenticate(ctx: CardContext, apdu: CommandApdu) -> bytes:
    """One PACE step; any failure aborts the run (a new MSE:Set AT is needed)."""
    session = ctx.session
    run = session.pace
    if run is None:
        raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "no PACE run: send MSE:Set AT first")
    try:
        return _step(ctx, run, apdu)
    except CardError:
        session.pace = None
        raise
    except AuthenticationError:
        session.pace = None
        _log.info("PACE failed: wrong authentication token (wrong password)")
        raise CardError(StatusWord.AUTHENTICATION_FAILED, "PACE authentication token wrong") from None
    except InvalidPointError:
        session.pace = None
        raise CardError(StatusWord.WRONG_DATA, "invalid public key") from None
    except CryptoError as exc:
        session.pace = None
        raise CardError(StatusWord.WRONG_DATA, f"PACE step failed: {exc}") from None


def _step(ctx: CardContext, run: PaceRun, apdu: CommandApdu) -> bytes:
    if apdu.p1p2 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "GENERAL AUTHENTICATE P1P2 must be 0000")
    outer = _parse(apdu.data)
    if len(outer) != 1 or outer[0].tag != TAG_DYNAMIC_AUTH:
        raise CardError(StatusWord.WRONG_DATA, "expected one DO 7C")
    try:
        inner = outer[0].children()
    except TlvError as exc:
        raise CardError(StatusWord.WRONG_DATA, f"malformed DO 7C: {exc}") from None
    expected, answer = _STEP_TAGS[run.step]
    tags = [item.tag for item in inner]
    if tags != ([] if expected is None else [expected]):
        if any(tag in (0x81, 0x83, 0x85) for tag in tags) or not inner:
            raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "PACE step out of order")
        raise CardError(StatusWord.WRONG_DATA, "unexpected data objects in DO 7C")
    value = inner[0].value if inner else b""
    if run.step is PaceStep.NONCE:
        out = run.chip.nonce()
        run.step = PaceStep.MAP
    elif run.step is PaceStep.MAP:
        out = run.chip.map(value)
        run.step = PaceStep.AGREE
    elif run.step is PaceStep.AGREE:
        out = run.chip.agree(value)
        if out == value:
            raise CardError(StatusWord.WRONG_DATA, "the terminal's ephemeral key equals the chip's")
        run.chip_eph_pub = out
        run.step = PaceStep.FINISH
    else:
        token, k_enc, k_mac = run.chip.finish(value)
        session = ctx.session
        session.pace = None
        session.sm = SecureMessaging(k_enc, k_mac)
        session.pace_password = run.password
        session.verified.clear()
        session.eac = EacSession()
        session.id_picc = compress_point(run.chip_eph_pub)  # ID_PICC for Terminal Authentication
        out = token
    return encode_tlv(TAG_DYNAMIC_AUTH, encode_tlv(answer, out))
