"""Results and errors of the ISO/IEC 24727-3-style facade (:mod:`neweid.terminal.iso24727`).

Every failure is an :class:`Iso24727Error` carrying the ``ResultMajor`` / ``ResultMinor`` URIs that a
24727 interface (BSI TR-03112 URIs, as used by eCard-API implementations) would answer:

=====================================  ===================================================================
error class                            ResultMinor (``ResultMajor`` is always ``…/resultmajor#error``)
=====================================  ===================================================================
IncorrectParameter                     ``…/resultminor/al/common#incorrectParameter``
UnknownConnectionHandle                ``…/resultminor/sal#unknownConnectionHandle``
NamedEntityNotFound                    ``…/resultminor/sal#namedEntityNotFound``
SecurityConditionNotSatisfied          ``…/resultminor/sal#securityConditionNotSatisfied``
InappropriateProtocolForAction         ``…/resultminor/sal#inappropriateProtocolForAction``
AuthenticationFailed                   ``…/resultminor/ifdl/authenticationFailed``
PasswordBlocked                        ``…/resultminor/ifdl/passwordBlocked``
NoCard                                 ``…/resultminor/ifdl/terminal#noCard``
InvalidSignatureError                  ``urn:neweid:resultminor#invalidSignature`` (project-defined)
InternalError                          ``…/resultminor/al/common#internalError``
=====================================  ===================================================================

``…`` is ``http://www.bsi.bund.de/ecard/api/1.1``. :func:`translate` maps the host's errors
(:mod:`neweid.terminal.errors`) onto these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from neweid.formats.iso7816 import StatusWord
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
    ReaderError,
    SecureChannelError,
    TerminalNotAuthorised,
    TransportError,
    WrongAccessCode,
    ZoneClosed,
)
from neweid.terminal.p11_errors import SignatureInvalidError

__all__ = [
    "AuthenticationFailed",
    "InappropriateProtocolForAction",
    "IncorrectParameter",
    "InternalError",
    "InvalidSignatureError",
    "Iso24727Error",
    "NamedEntityNotFound",
    "NoCard",
    "PasswordBlocked",
    "Result",
    "ResultMajor",
    "ResultMinor",
    "SecurityConditionNotSatisfied",
    "UnknownConnectionHandle",
    "translate",
    "translated",
]

_ECARD = "http://www.bsi.bund.de/ecard/api/1.1/"


class ResultMajor(StrEnum):
    OK = _ECARD + "resultmajor#ok"
    WARNING = _ECARD + "resultmajor#warning"
    ERROR = _ECARD + "resultmajor#error"
    NEXT_REQUEST = _ECARD + "resultmajor#nextRequest"


class ResultMinor(StrEnum):
    INCORRECT_PARAMETER = _ECARD + "resultminor/al/common#incorrectParameter"
    INTERNAL_ERROR = _ECARD + "resultminor/al/common#internalError"
    UNKNOWN_CONNECTION_HANDLE = _ECARD + "resultminor/sal#unknownConnectionHandle"
    NAMED_ENTITY_NOT_FOUND = _ECARD + "resultminor/sal#namedEntityNotFound"
    SECURITY_CONDITION_NOT_SATISFIED = _ECARD + "resultminor/sal#securityConditionNotSatisfied"
    INAPPROPRIATE_PROTOCOL_FOR_ACTION = _ECARD + "resultminor/sal#inappropriateProtocolForAction"
    AUTHENTICATION_FAILED = _ECARD + "resultminor/ifdl/authenticationFailed"
    PASSWORD_BLOCKED = _ECARD + "resultminor/ifdl/passwordBlocked"
    NO_CARD = _ECARD + "resultminor/ifdl/terminal#noCard"
    INVALID_SIGNATURE = "urn:neweid:resultminor#invalidSignature"


@dataclass(frozen=True)
class Result:
    """A 24727 ``Result``: major, minor (None when OK) and a message."""

    major: ResultMajor
    minor: ResultMinor | None = None
    message: str = ""


class Iso24727Error(ReaderError):
    """A failed 24727 call; :attr:`result` is the ``Result`` element it stands for."""

    minor: ResultMinor = ResultMinor.INTERNAL_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def result(self) -> Result:
        return Result(ResultMajor.ERROR, self.minor, self.message)


class IncorrectParameter(Iso24727Error, ValueError):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.INCORRECT_PARAMETER


class InternalError(Iso24727Error):
    minor = ResultMinor.INTERNAL_ERROR


class UnknownConnectionHandle(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.UNKNOWN_CONNECTION_HANDLE


class NamedEntityNotFound(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.NAMED_ENTITY_NOT_FOUND


class SecurityConditionNotSatisfied(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.SECURITY_CONDITION_NOT_SATISFIED


class InappropriateProtocolForAction(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.INAPPROPRIATE_PROTOCOL_FOR_ACTION


class AuthenticationFailed(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    """A DID authentication failed; ``tries_left`` for a wrong PIN."""

    minor = ResultMinor.AUTHENTICATION_FAILED

    def __init__(self, message: str, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class PasswordBlocked(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.PASSWORD_BLOCKED


class NoCard(Iso24727Error):  # noqa: N818 - 24727 ResultMinor names
    minor = ResultMinor.NO_CARD


class InvalidSignatureError(Iso24727Error):
    minor = ResultMinor.INVALID_SIGNATURE


def translate(exc: ReaderError) -> Iso24727Error:
    """The 24727 error for a host-side error (order matters: the most specific class first)."""
    text = str(exc)
    if isinstance(exc, Iso24727Error):
        return exc
    if isinstance(exc, InvalidInputError):
        return IncorrectParameter(text)
    if isinstance(exc, PinIncorrect):
        return AuthenticationFailed(text, exc.tries_left)
    if isinstance(exc, PinBlocked):
        return PasswordBlocked(text)
    if isinstance(exc, WrongAccessCode | TerminalNotAuthorised | CardNotGenuine | DataTampered):
        return AuthenticationFailed(text)
    if isinstance(exc, ZoneClosed):
        return NamedEntityNotFound(text)
    if isinstance(exc, AccessDenied | InterfaceNotAllowed | PinNotSet | SecureChannelError):
        return SecurityConditionNotSatisfied(text)
    if isinstance(exc, SignatureInvalidError):
        return InvalidSignatureError(text)
    if isinstance(exc, TransportError):
        return NoCard(text)
    if isinstance(exc, CardStatusError):
        if exc.sw == StatusWord.FILE_NOT_FOUND:
            return NamedEntityNotFound(text)
        if exc.sw in (StatusWord.SECURITY_STATUS_NOT_SATISFIED, StatusWord.SM_DATA_OBJECTS_INCORRECT,
                      StatusWord.SM_DATA_OBJECTS_MISSING):
            return SecurityConditionNotSatisfied(text)
        if exc.sw == StatusWord.CONDITIONS_NOT_SATISFIED:
            return InappropriateProtocolForAction(text)
    return InternalError(text)


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except Iso24727Error:
        raise
    except ReaderError as exc:
        raise translate(exc) from exc
