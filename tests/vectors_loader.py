"""Load the published test vectors in tests/vectors/ (see tests/vectors/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).parent / "vectors"

BSI_ECDH = "bsi_eac_worked_example_ecdh.json"
BSI_DH = "bsi_eac_worked_example_dh.json"
ICAO_G1 = "icao9303_11_g1_pace_ecdh.json"


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed JSON vector file ``name`` (cached; treat it as read-only)."""
    with (VECTORS_DIR / name).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@dataclass(frozen=True)
class Group:
    """One group of a vector file (e.g. ``pace``) with typed accessors."""

    name: str
    fields: dict[str, Any]

    def hex(self, key: str) -> bytes:
        """A byte-string field (hex in the file)."""
        return bytes.fromhex(self.fields[key])

    def int_hex(self, key: str) -> int:
        """A big-endian integer stored as hex (private keys)."""
        return int(self.fields[key], 16)

    def text(self, key: str) -> str:
        value = self.fields[key]
        assert isinstance(value, str)
        return value

    def int(self, key: str) -> int:
        value = self.fields[key]
        assert isinstance(value, int)
        return value


def group(name: str, group_name: str) -> Group:
    """The group ``group_name`` (``pace``, ``ca``, ``ta``, ``sm``) of the vector file ``name``."""
    return Group(group_name, load(name)[group_name])
