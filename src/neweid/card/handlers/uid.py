"""The PC/SC pseudo-APDU GET DATA UID ``FF CA 00 00 00`` (PC/SC part 3 §3.2.2.1.3)."""

from __future__ import annotations

from neweid.card.apdu import CommandApdu
from neweid.card.errors import CardError
from neweid.card.state import CardContext
from neweid.formats.filemap import Interface
from neweid.formats.iso7816 import StatusWord


def get_data(ctx: CardContext, apdu: CommandApdu) -> bytes:
    if apdu.cla != 0xFF:
        raise CardError(StatusWord.INS_NOT_SUPPORTED, "GET DATA is only the PC/SC UID pseudo-APDU")
    if apdu.p1p2 != 0 or ctx.session.interface is not Interface.CONTACTLESS:
        raise CardError(StatusWord.FUNCTION_NOT_SUPPORTED, "UID available on the contactless interface only")
    return ctx.session.uid
