"""Errors of the exchanges, each with a short code: ``X1xx`` files, ``X2xx`` production exchange, ``X3xx``
machine clients. Messages carry no personal data (at most a line number, a serial or a file type)."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from neweid.server.errors import (
    AccessDeniedError,
    ConflictError,
    NotFoundError,
    ValidationFailedError,
)


class ExchangeCode(StrEnum):
    BAD_FILE = "X101"
    FILE_GONE = "X102"
    UNKNOWN_CARD = "X201"
    NO_BLANK_CHIPS = "X202"
    CHIP_KNOWN = "X203"
    SYSTEM_REFUSED = "X301"
    SYSTEM_STATE = "X302"



class ExchangeFileError(ValidationFailedError):
    """An exchange file that does not follow its format (docs/exchange-formats.md)."""

    code = ExchangeCode.BAD_FILE
    default_message = _("The exchange file is not valid.")


class FileGoneError(NotFoundError):
    """The file is not (or no longer) in the transfer area: purged after the status replies."""

    code = ExchangeCode.FILE_GONE
    default_message = _("The file is not in the transfer area.")


class UnknownCardError(ConflictError):
    code = ExchangeCode.UNKNOWN_CARD
    default_message = _("A status reply names a card that is not in the batch.")


class NotEnoughBlankChipsError(ConflictError):
    code = ExchangeCode.NO_BLANK_CHIPS
    default_message = _("Not enough pre-produced blank chips with keys: the production centre must send "
                        "more before the batch can be sent.")


class ChipAlreadyKnownError(ConflictError):
    code = ExchangeCode.CHIP_KNOWN
    default_message = _("A blank chip was already received with other key data.")


class SystemRefusedError(AccessDeniedError):
    code = ExchangeCode.SYSTEM_REFUSED
    default_message = _("This system may not use this exchange.")


class SystemStateError(ConflictError):
    code = ExchangeCode.SYSTEM_STATE
    default_message = _("The system is not in a state that allows this.")
