"""The chip's Answer-to-Reset (ISO/IEC 7816-3 §8.2, ISO/IEC 7816-4 §8.1).

``3B 85 80 01 | 80 73 B4 01 C0 | TCK``:

- ``3B`` direct convention; T0 ``85``: TD1 follows, 5 historical bytes;
- TD1 ``80``: TD2 follows, T=0 offered; TD2 ``01``: T=1, no more interface bytes (so TCK is present);
- historical bytes: category indicator ``80`` (compact-TLV objects follow), card capabilities
  ``73 B4 01 C0``: DF selection by full name, by path, by FID, short EF identifiers (``B4``), data
  units of one byte (``01``), command chaining and extended Lc/Le (``C0``);
- TCK: XOR of T0 … the last historical byte.

PC/SC builds the same ATR for a contactless card from these historical bytes (PC/SC part 3 §3.1.3.2.3).
"""

from __future__ import annotations

from functools import reduce

HISTORICAL_BYTES = bytes.fromhex("8073B401C0")
CAPABILITY_EXTENDED_LENGTH = 0x40
CAPABILITY_CHAINING = 0x80


def build_atr(historical: bytes = HISTORICAL_BYTES) -> bytes:
    if len(historical) > 15:
        raise ValueError("at most 15 historical bytes")
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    return b"\x3b" + body + bytes([reduce(lambda a, b: a ^ b, body, 0)])


ATR = build_atr()
