"""Command handlers, one per instruction, all of one shape ``(ctx, apdu) -> response data``.

A handler raises :class:`~neweid.card.errors.CardError` to answer a status word; only the dispatcher
builds responses. :data:`HANDLERS` is the instruction table.
"""

from __future__ import annotations

from collections.abc import Callable

from neweid.card.apdu import CommandApdu
from neweid.card.handlers import files, perso, pins, routing, security, ta, uid
from neweid.card.state import CardContext
from neweid.formats.iso7816 import Ins

Handler = Callable[[CardContext, CommandApdu], bytes]

HANDLERS: dict[int, Handler] = {
    Ins.SELECT: files.select,
    Ins.READ_BINARY: files.read_binary,
    Ins.UPDATE_BINARY: files.update_binary,
    Ins.ERASE_BINARY: files.erase_binary,
    Ins.MANAGE_SECURITY_ENVIRONMENT: routing.manage_security_environment,
    Ins.GENERAL_AUTHENTICATE: routing.general_authenticate,
    Ins.PERFORM_SECURITY_OPERATION: routing.perform_security_operation,
    Ins.EXTERNAL_AUTHENTICATE: ta.external_authenticate,
    Ins.INTERNAL_AUTHENTICATE: security.internal_authenticate,
    Ins.GET_CHALLENGE: security.get_challenge,
    Ins.VERIFY: pins.verify,
    Ins.CHANGE_REFERENCE_DATA: pins.change_reference_data,
    Ins.RESET_RETRY_COUNTER: pins.reset_retry_counter,
    Ins.PUT_DATA: perso.put_data,
    Ins.GENERATE_ASYMMETRIC_KEY_PAIR: perso.generate_asymmetric_key_pair,
    Ins.ACTIVATE: perso.activate,
    Ins.GET_DATA: uid.get_data,
}

# Instructions whose data may arrive in a command chain (CLA bit 10) that the dispatcher buffers.
CHAINABLE: frozenset[int] = frozenset({Ins.UPDATE_BINARY, Ins.PUT_DATA, Ins.PERFORM_SECURITY_OPERATION})
