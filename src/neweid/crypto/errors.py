"""The error hierarchy of :mod:`neweid.crypto`.

Every public entry point of the crypto layer raises a :class:`CryptoError` (a :class:`ValueError`) for bad
input; builtin exceptions do not escape. Messages never contain keys, nonces or personal data.
"""

from __future__ import annotations

from neweid.formats.iso7816 import StatusWord


class CryptoError(ValueError):
    """Base class of all errors of the protocol crypto layer."""


class InvalidPointError(CryptoError):
    """An encoded EC point is malformed, out of range, not on the curve, or the point at infinity."""


class SecureMessagingError(CryptoError):
    """A secure-messaging APDU could not be protected or verified.

    ``status_word`` is what a card answers for the failure: ``6987`` when mandatory SM data objects are
    missing, ``6988`` when they are incorrect (bad MAC, replay, bad padding, malformed objects). On the
    terminal side it is the status word of a plain ``6987``/``6988`` answer, or ``6988`` otherwise.
    """

    def __init__(self, message: str, status_word: StatusWord = StatusWord.SM_DATA_OBJECTS_INCORRECT) -> None:
        super().__init__(message)
        self.status_word = status_word


class AuthenticationError(CryptoError):
    """An authentication token or a signature did not verify."""
