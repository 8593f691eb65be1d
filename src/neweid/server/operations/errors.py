"""Errors of card operations, each with a short code users see (``O1xx`` loss, ``O2xx`` chip updates,
``O3xx`` temporary certificates and chip data lists, ``O4xx`` voiding, ``O5xx`` statistics, ``O6xx``
recalls). The citizen CA's failures are the cards app's (``C702``).

The platform's :class:`~neweid.server.errors.ErrorCode` is a closed enum; these codes are a second
``StrEnum`` of the same shape (``.value`` and ``str()`` give the code), cast where the base class
expects an ``ErrorCode``.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from neweid.server.errors import (
    AccessDeniedError,
    ConflictError,
    ValidationFailedError,
)


class OperationsCode(StrEnum):
    REPORTER_NOT_ALLOWED = "O101"
    OUTSIDE_OFFICE_HOURS = "O102"
    NO_CARD_IN_USE = "O103"
    LOSS_NOT_REVOCABLE = "O104"
    CHANNEL_NEEDS_OFFICE = "O105"
    NEW_CARD_REQUIRED = "O201"
    UNKNOWN_CHIP_FIELD = "O202"
    NOTHING_TO_UPDATE = "O203"
    CARD_NOT_UPDATABLE = "O204"
    NO_OPEN_APPLICATION = "O301"
    BAD_VALIDITY = "O302"
    VOIDING_NOT_ALLOWED = "O401"
    VOIDING_LIST_STATE = "O402"
    NOTHING_TO_LIST = "O403"
    OUT_OF_SCOPE = "O501"
    EMPTY_RECALL = "O601"
    BAD_RECALL_SCOPE = "O602"
    RECALL_STATE = "O603"



class ReporterNotAllowedError(AccessDeniedError):
    code = OperationsCode.REPORTER_NOT_ALLOWED
    default_message = _("This person may not report the loss of this card.")


class OutsideOfficeHoursError(ConflictError):
    code = OperationsCode.OUTSIDE_OFFICE_HOURS
    default_message = _("Offices take loss reports by phone during office hours only; please call the 1996 "
                        "hotline.")


class NoCardInUseError(ConflictError):
    code = OperationsCode.NO_CARD_IN_USE
    default_message = _("This person has no card in use.")


class LossNotRevocableError(ConflictError):
    code = OperationsCode.LOSS_NOT_REVOCABLE
    default_message = _("The loss can no longer be revoked: a reissue has been applied for.")


class ChannelNeedsOfficeError(ValidationFailedError):
    code = OperationsCode.CHANNEL_NEEDS_OFFICE
    default_message = _("Counter and phone reports are taken by an office.")


class NewCardRequiredError(ValidationFailedError):
    code = OperationsCode.NEW_CARD_REQUIRED
    default_message = _("This data is printed on the card: a new card is needed, not a chip update.")


class UnknownChipFieldError(ValidationFailedError):
    code = OperationsCode.UNKNOWN_CHIP_FIELD
    default_message = _("Unknown chip field.")


class NothingToUpdateError(ValidationFailedError):
    code = OperationsCode.NOTHING_TO_UPDATE
    default_message = _("The chip already holds this data.")


class CardNotUpdatableError(ConflictError):
    code = OperationsCode.CARD_NOT_UPDATABLE
    default_message = _("Only a card in use can have its chip updated.")


class NoOpenApplicationError(ConflictError):
    code = OperationsCode.NO_OPEN_APPLICATION
    default_message = _("A temporary certificate needs an application whose card has not been issued.")


class BadValidityError(ValidationFailedError):
    code = OperationsCode.BAD_VALIDITY
    default_message = _("The validity period is not allowed.")


class VoidingNotAllowedError(ConflictError):
    code = OperationsCode.VOIDING_NOT_ALLOWED
    default_message = _("These cards cannot be voided.")


class VoidingListStateError(ConflictError):
    code = OperationsCode.VOIDING_LIST_STATE
    default_message = _("The voiding list is not in a state that allows this.")


class NothingToListError(ConflictError):
    code = OperationsCode.NOTHING_TO_LIST
    default_message = _("There are no voided cards waiting for a list.")


class OutOfScopeError(AccessDeniedError):
    code = OperationsCode.OUT_OF_SCOPE
    default_message = _("These statistics are outside your office or city/county.")


class EmptyRecallError(ConflictError):
    code = OperationsCode.EMPTY_RECALL
    default_message = _("No card falls within the recall's scope.")


class BadRecallScopeError(ValidationFailedError):
    code = OperationsCode.BAD_RECALL_SCOPE
    default_message = _("The recall scope is not valid.")


class RecallStateError(ConflictError):
    code = OperationsCode.RECALL_STATE
    default_message = _("The recall is not in a state that allows this.")

