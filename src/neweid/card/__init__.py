"""The virtual New eID chip (CARD-2..9): an ISO/IEC 7816-4 card with the four zones, PACE, secure
messaging, Active Authentication, PINs and an atomically saved image, driven only by APDUs.

See docs/protocol-profile.md for the command set and :class:`VirtualCard` for the entry point.
"""

from neweid.card.chip import VirtualCard
from neweid.card.errors import CardImageError, CardSetupError, VirtualCardError
from neweid.card.state import LifeCycle
from neweid.formats.filemap import Interface

__all__ = ["CardImageError", "CardSetupError", "Interface", "LifeCycle", "VirtualCard", "VirtualCardError"]
