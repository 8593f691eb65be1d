"""The error hierarchy of :mod:`neweid.card`.

:class:`CardError` is the one exception handlers raise: it carries the status word the card answers
with, and only the dispatcher turns it into a response. :class:`CardImageError` is raised by the public
API when a card image cannot be created, read or trusted; :class:`CardSetupError` for bad arguments to
the public API.
"""

from __future__ import annotations

from neweid.formats.iso7816 import StatusWord, describe_sw


class VirtualCardError(Exception):
    """Base class of the errors the public API of :mod:`neweid.card` raises."""


class CardImageError(VirtualCardError):
    """A card image is missing, truncated, altered, of an unknown version or cannot be written."""


class CardSetupError(VirtualCardError, ValueError):
    """A bad argument to :class:`neweid.card.VirtualCard` (e.g. a chip serial of the wrong size)."""


class CardError(Exception):
    """A command failed; ``status_word`` is what the card answers (never escapes ``transmit``)."""

    def __init__(self, status_word: int, message: str = "") -> None:
        super().__init__(message or describe_sw(status_word))
        self.status_word = int(status_word)


class CardWarningError(CardError):
    """A command completed with a warning status word (``62xx``) and response data."""

    def __init__(self, status_word: int, data: bytes, message: str = "") -> None:
        super().__init__(status_word, message)
        self.data = data


def fail(status_word: StatusWord, message: str = "") -> CardError:
    """A :class:`CardError` for ``status_word`` (``raise fail(StatusWord.X, "why")``)."""
    return CardError(status_word, message)
