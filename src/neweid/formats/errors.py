"""The root of the ``neweid.formats`` error hierarchy.

Every codec in this package raises a subclass of :class:`FormatError` for bad input, so callers can catch
one class for "these bytes or this text are not what they claim to be". It subclasses :class:`ValueError`
so that code which only knows the builtin still catches it.
"""

from __future__ import annotations


class FormatError(ValueError):
    """Input that does not follow the format a codec implements."""
