"""The command dispatcher: CLA checks, secure messaging around the handlers, command chaining, the
instruction table, persistence before answering, and the one place that turns errors into status words.

Order of work for one APDU (docs/protocol-profile.md "Secure messaging rules"):

1. parse (``6700`` if malformed) and check the CLA;
2. SM-protected CLA: unwrap with the session's keys; a failure answers a plain ``6987``/``6988`` and
   ends the SM session. A plain command while SM is active ends the SM session first;
3. command chaining (CLA bit ``10``) for UPDATE BINARY / PUT DATA: buffer until the last command;
4. the handler; any unexpected exception becomes ``6F00`` and the persistent state is rolled back;
5. if the handler changed the persistent state, save it (``6581`` and roll back if saving fails);
6. answer: SM-wrapped (status word in DO 99, MAC'd) when the command was SM-protected.
"""

from __future__ import annotations

import logging
from typing import Protocol

from neweid.card.access import require_interface_allowed
from neweid.card.apdu import CLA_CHAINING, CLA_SM, CommandApdu, parse
from neweid.card.errors import CardError, CardWarningError
from neweid.card.handlers import CHAINABLE, HANDLERS
from neweid.card.state import CardContext, ChainBuffer
from neweid.crypto.errors import CryptoError, SecureMessagingError
from neweid.formats.iso7816 import Ins, StatusWord

_log = logging.getLogger(__name__)

CLA_PCSC = 0xFF  # PC/SC pseudo-APDUs (GET DATA UID); never SM, never end an SM session
MAX_CHAIN_BYTES = 65536


class Store(Protocol):
    """Where the dispatcher commits the persistent state before answering."""

    def commit(self, ctx: CardContext) -> bool:
        """Save ``ctx.persistent``; on failure restore the last saved state and return False."""

    def rollback(self, ctx: CardContext) -> None:
        """Restore the last saved persistent state into ``ctx``."""


def status_bytes(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


def _check_cla(cla: int) -> None:
    if cla == CLA_PCSC:
        return
    if cla & 0x80 or cla & 0x60:
        raise CardError(StatusWord.CLA_NOT_SUPPORTED, f"class {cla:02X} not supported")
    if cla & 0x03:
        raise CardError(StatusWord.LOGICAL_CHANNEL_NOT_SUPPORTED, "logical channels not supported")
    if cla & CLA_SM not in (0, CLA_SM):
        raise CardError(StatusWord.SECURE_MESSAGING_NOT_SUPPORTED, "only SM with authenticated header")


def process(ctx: CardContext, raw: bytes, store: Store) -> bytes:
    """Answer one command APDU (response data ‖ SW). Never raises for bad input."""
    try:
        apdu = parse(raw)
        _check_cla(apdu.cla)
    except CardError as exc:
        return status_bytes(exc.status_word)
    session = ctx.session
    sm = session.sm
    if apdu.cla == CLA_PCSC:
        data, sw = _run(ctx, apdu, store, sm=False)
        return data + status_bytes(sw)
    if not apdu.sm:
        if sm is not None:
            _log.info("plain command during secure messaging: SM session ended")
            session.end_secure_session()
        data, sw = _run(ctx, apdu, store, sm=False)
        return data + status_bytes(sw)
    if sm is None:
        return status_bytes(StatusWord.SM_DATA_OBJECTS_INCORRECT)
    try:
        body, le = sm.unwrap_command(apdu.cla, apdu.ins, apdu.p1, apdu.p2, apdu.data, apdu.extended)
    except SecureMessagingError as exc:
        _log.info("SM command rejected (%s): SM session ended", exc)
        session.end_secure_session()
        session.chain = None
        return status_bytes(exc.status_word)
    inner = apdu.with_body(apdu.cla & ~CLA_SM, body, le)
    data, sw = _run(ctx, inner, store, sm=True)
    try:
        return sm.wrap_response(data, sw)
    except CryptoError:
        _log.exception("cannot wrap the response: SM session ended")
        session.end_secure_session()
        return status_bytes(StatusWord.UNKNOWN_ERROR)


def _run(ctx: CardContext, apdu: CommandApdu, store: Store, *, sm: bool) -> tuple[bytes, int]:
    """Chaining, handler, commit; returns (response data, status word)."""
    ctx.dirty = False
    data, sw = b"", int(StatusWord.SUCCESS)
    try:
        require_interface_allowed(ctx, apdu.ins)
        whole = _chain(ctx, apdu, sm)
        if whole is not None:
            handler = HANDLERS.get(whole.ins)
            if handler is None:
                raise CardError(StatusWord.INS_NOT_SUPPORTED, f"instruction {whole.ins:02X} not supported")
            data = handler(ctx, whole)
    except CardWarningError as warning:
        data, sw = warning.data, warning.status_word
    except CardError as exc:
        _log.debug("INS %02X: %04X %s", apdu.ins, exc.status_word, exc)
        sw = exc.status_word
    except Exception:
        _log.exception("internal error in the handler of INS %02X", apdu.ins)
        if ctx.dirty:
            store.rollback(ctx)
        ctx.dirty = False
        return b"", int(StatusWord.UNKNOWN_ERROR)
    if ctx.dirty:
        ctx.dirty = False
        if not store.commit(ctx):
            ctx.session.end_secure_session()
            return b"", int(StatusWord.MEMORY_FAILURE)
    return data, sw


def _chain(ctx: CardContext, apdu: CommandApdu, sm: bool) -> CommandApdu | None:
    """The complete command once the chain ends, or None while buffering (answered ``9000``)."""
    session = ctx.session
    buffered = session.chain
    if buffered is not None and (buffered.ins, buffered.p1, buffered.p2, buffered.sm) != (
            apdu.ins, apdu.p1, apdu.p2, sm):
        session.chain = None
        raise CardError(StatusWord.LAST_COMMAND_EXPECTED, "command chain interrupted")
    if apdu.chained and apdu.ins not in CHAINABLE:
        if apdu.ins == Ins.GENERAL_AUTHENTICATE:  # PACE: chaining marks "more steps follow"
            return apdu
        raise CardError(StatusWord.COMMAND_CHAINING_NOT_SUPPORTED, "chaining not supported for this INS")
    if apdu.chained:
        if buffered is None:
            buffered = session.chain = ChainBuffer(apdu.ins, apdu.p1, apdu.p2, sm)
        buffered.data += apdu.data
        if len(buffered.data) > MAX_CHAIN_BYTES:
            session.chain = None
            raise CardError(StatusWord.WRONG_LENGTH, "command chain too long")
        return None
    if buffered is not None:
        session.chain = None
        return apdu.with_body(apdu.cla & ~CLA_CHAINING, buffered.data + apdu.data, apdu.ne)
    return apdu
