"""VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER for PIN1, PIN2 and the user code (CARD-5).

All three need the contact interface (``6985``) and secure messaging (``6982``). RESET RETRY COUNTER
needs the user code verified, or a terminal whose effective CHAT holds PIN_MANAGEMENT (office counter).
Counter changes mark the state dirty, so the dispatcher saves them before the status word leaves the card.
"""

from __future__ import annotations

import logging

from neweid.card.access import require_contact_sm
from neweid.card.apdu import CommandApdu
from neweid.card.errors import CardError
from neweid.card.pins import PinCheck, PinRecord, is_well_formed
from neweid.card.state import CardContext
from neweid.formats.chat import NeidRight
from neweid.formats.iso7816 import PinRef, StatusWord, retries_left

_log = logging.getLogger(__name__)

RRC_SET = 0x02  # RESET RETRY COUNTER P1: new reference data, counter reset
RRC_UNBLOCK = 0x03  # counter reset only


def _ref(p2: int, allowed: tuple[PinRef, ...] = tuple(PinRef)) -> PinRef:
    if p2 not in {int(r) for r in allowed}:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_FOUND, f"no reference data {p2:02X}")
    return PinRef(p2)


def _record(ctx: CardContext, ref: PinRef) -> PinRecord:
    record = ctx.persistent.pins.get(ref)
    if record is None:
        raise CardError(StatusWord.REFERENCE_DATA_NOT_USABLE, f"{ref.name} not set")
    return record


def _check_format(ref: PinRef, value: bytes) -> None:
    if not is_well_formed(ref, value):
        raise CardError(StatusWord.WRONG_DATA, f"wrong {ref.name} format")


def verify(ctx: CardContext, apdu: CommandApdu) -> bytes:
    if apdu.p1 != 0:
        raise CardError(StatusWord.INCORRECT_P1P2, "VERIFY P1 must be 00")
    require_contact_sm(ctx)
    ref = _ref(apdu.p2)
    record = _record(ctx, ref)
    session = ctx.session
    if record.blocked:
        raise CardError(StatusWord.AUTHENTICATION_METHOD_BLOCKED, f"{ref.name} blocked")
    if not apdu.data:  # status query
        if ref in session.verified:
            return b""
        raise CardError(retries_left(record.tries_left))
    _check_format(ref, apdu.data)
    outcome, updated = record.check(apdu.data)
    if updated != record:
        ctx.persistent.pins[ref] = updated
        ctx.changed()
    if outcome is PinCheck.OK:
        session.verified.add(ref)
        return b""
    session.verified.discard(ref)
    _log.info("wrong %s, %d tries left", ref.name, updated.tries_left)
    raise CardError(retries_left(updated.tries_left))


def change_reference_data(ctx: CardContext, apdu: CommandApdu) -> bytes:
    if apdu.p1 != 0x01:
        raise CardError(StatusWord.INCORRECT_P1P2, "CHANGE REFERENCE DATA supports P1 01 only")
    require_contact_sm(ctx)
    ref = _ref(apdu.p2)
    record = _record(ctx, ref)
    if record.blocked:
        raise CardError(StatusWord.AUTHENTICATION_METHOD_BLOCKED, f"{ref.name} blocked")
    if ref not in ctx.session.verified:
        raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, f"{ref.name} not verified")
    _check_format(ref, apdu.data)
    ctx.persistent.pins[ref] = record.changed(apdu.data, ctx.rng)
    ctx.changed()
    return b""


def reset_retry_counter(ctx: CardContext, apdu: CommandApdu) -> bytes:
    if apdu.p1 not in (RRC_SET, RRC_UNBLOCK):
        raise CardError(StatusWord.INCORRECT_P1P2, "RESET RETRY COUNTER supports P1 02 and 03")
    require_contact_sm(ctx)
    ref = _ref(apdu.p2, (PinRef.PIN1, PinRef.PIN2))
    if not ctx.session.eac.rights & NeidRight.PIN_MANAGEMENT:  # an office terminal needs no user code
        user_code = ctx.persistent.pins.get(PinRef.USER_CODE)
        if user_code is None or PinRef.USER_CODE not in ctx.session.verified:
            raise CardError(StatusWord.SECURITY_STATUS_NOT_SATISFIED, "user code not verified")
        if user_code.default:
            raise CardError(StatusWord.CONDITIONS_NOT_SATISFIED, "change the default user code first")
    if apdu.p1 == RRC_SET:
        _check_format(ref, apdu.data)
        ctx.persistent.pins[ref] = PinRecord.create(ref, apdu.data, ctx.rng)
    else:
        if apdu.data:
            raise CardError(StatusWord.WRONG_LENGTH, "P1 03 takes no data")
        ctx.persistent.pins[ref] = _record(ctx, ref).unblocked()
    ctx.session.verified.discard(ref)
    ctx.changed()
    return b""
