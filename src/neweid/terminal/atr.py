"""Just enough of the Answer-to-Reset (ISO/IEC 7816-3 §8.2, 7816-4 §8.1.1) to learn what the card
announces: its protocols and, in the historical bytes, whether it accepts extended Lc/Le fields."""

from __future__ import annotations

from dataclasses import dataclass

from neweid.terminal.errors import InvalidInputError

__all__ = ["AtrInfo", "parse_atr"]

_CARD_CAPABILITIES_TAG = 0x7
_EXTENDED_LENGTH_BIT = 0x40  # third software-function byte, b7: extended Lc and Le fields


@dataclass(frozen=True)
class AtrInfo:
    """What an ATR tells the host."""

    protocols: tuple[int, ...]  # T=0 when none is indicated
    historical_bytes: bytes
    extended_length: bool


def _compact_tlvs(data: bytes) -> dict[int, bytes]:
    objects: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        tag, length = data[i] >> 4, data[i] & 0x0F
        value = data[i + 1:i + 1 + length]
        if len(value) != length:
            break  # truncated object: ignore, the ATR is advisory
        objects.setdefault(tag, value)
        i += 1 + length
    return objects


def _extended_length(historical: bytes) -> bool:
    if not historical:
        return False
    category = historical[0]
    if category == 0x80:
        objects = _compact_tlvs(historical[1:])
    elif category == 0x00 and len(historical) >= 4:
        objects = _compact_tlvs(historical[1:-3])  # the last three bytes are the status indicator
    else:
        return False
    caps = objects.get(_CARD_CAPABILITIES_TAG, b"")
    return len(caps) >= 3 and bool(caps[2] & _EXTENDED_LENGTH_BIT)


def parse_atr(atr: bytes) -> AtrInfo:
    """Parse an ATR; raises :class:`InvalidInputError` when it is structurally broken."""
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        raise InvalidInputError("not an ATR: it must start with 3B or 3F")
    y, k = atr[1] >> 4, atr[1] & 0x0F
    i = 2
    protocols: list[int] = []
    while True:
        for bit in (0x1, 0x2, 0x4):  # TA, TB, TC
            if y & bit:
                i += 1
        if not y & 0x8:
            break
        if i >= len(atr):
            raise InvalidInputError("ATR truncated in its interface bytes")
        td = atr[i]
        i += 1
        protocols.append(td & 0x0F)
        y = td >> 4
    historical = atr[i:i + k]
    if len(historical) != k:
        raise InvalidInputError("ATR truncated in its historical bytes")
    return AtrInfo(tuple(dict.fromkeys(protocols)) or (0,), bytes(historical), _extended_length(historical))
