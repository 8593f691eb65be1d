"""The card's state: what survives power-off (:class:`PersistentState`, saved in the card image) and
what a session holds (:class:`SessionState`, lost at power-off or reset), plus the
:class:`CardContext` handed to every command handler.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import TYPE_CHECKING

from neweid.card.filesystem import DedicatedFile, FileSystem
from neweid.card.pins import PinRecord
from neweid.formats.filemap import FileSpec, Interface
from neweid.formats.iso7816 import PasswordRef, PinRef

if TYPE_CHECKING:
    from neweid.crypto.pace import PaceChip
    from neweid.crypto.sm import SecureMessaging

Rng = Callable[[int], bytes]


class LifeCycle(StrEnum):
    """Personalisation (fresh image, PUT DATA etc. allowed) → operational (after ACTIVATE)."""

    PERSONALISATION = "personalisation"
    OPERATIONAL = "operational"


_FILE_KEY = re.compile(r"[0-9A-F]{4}/[0-9A-F]{4}")
_DIGITS = re.compile(r"[0-9]*")


@dataclass
class PersistentState:
    """Everything the chip keeps across sessions (CARD-5, CARD-6, CARD-8)."""

    chip_serial: bytes
    lifecycle: LifeCycle = LifeCycle.PERSONALISATION
    files: dict[str, bytes] = field(default_factory=dict)
    aa_key: bytes | None = None  # PKCS#8 DER of the Active Authentication key (P-521)
    pins: dict[PinRef, PinRecord] = field(default_factory=dict)
    can: str | None = None
    mrz_seed: str | None = None
    card_date: str | None = None  # YYYYMMDD

    def to_json(self) -> dict[str, object]:
        return {
            "chip_serial": self.chip_serial.hex(),
            "lifecycle": self.lifecycle.value,
            "files": {k: base64.b64encode(v).decode("ascii") for k, v in sorted(self.files.items())},
            "aa_key": None if self.aa_key is None else base64.b64encode(self.aa_key).decode("ascii"),
            "pins": {ref.name: rec.to_json() for ref, rec in sorted(self.pins.items())},
            "can": self.can,
            "mrz_seed": self.mrz_seed,
            "card_date": self.card_date,
        }

    @classmethod
    def from_json(cls, obj: object) -> PersistentState:
        """Raises ValueError/TypeError/KeyError on bad content (the image loader wraps them)."""
        if not isinstance(obj, dict):
            raise TypeError("content is not an object")
        files_obj = obj["files"]
        pins_obj = obj["pins"]
        if not isinstance(files_obj, dict) or not isinstance(pins_obj, dict):
            raise TypeError("files/pins are not objects")
        files: dict[str, bytes] = {}
        for key, value in files_obj.items():
            if not _FILE_KEY.fullmatch(key):
                raise ValueError(f"bad file key {key!r}")
            files[key] = base64.b64decode(_text(value), validate=True)
        pins = {PinRef[name]: PinRecord.from_json(PinRef[name], _dict(rec)) for name, rec in pins_obj.items()}
        aa_key = obj["aa_key"]
        can, mrz_seed, card_date = (_opt_text(obj[k]) for k in ("can", "mrz_seed", "card_date"))
        if can is not None and not _DIGITS.fullmatch(can):
            raise ValueError("bad CAN")
        return cls(
            chip_serial=bytes.fromhex(_text(obj["chip_serial"])),
            lifecycle=LifeCycle(obj["lifecycle"]),
            files=files,
            aa_key=None if aa_key is None else base64.b64decode(_text(aa_key), validate=True),
            pins=pins,
            can=can,
            mrz_seed=mrz_seed,
            card_date=card_date,
        )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _opt_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


class PaceStep(Enum):
    """Where a PACE run stands (TR-03110-2 §3.2): the next GENERAL AUTHENTICATE it expects."""

    NONCE = "nonce"  # after MSE:Set AT
    MAP = "map"
    AGREE = "agree"
    FINISH = "finish"


@dataclass
class PaceRun:
    """A PACE run in progress."""

    password: PasswordRef
    chip: PaceChip
    step: PaceStep = PaceStep.NONCE
    chip_eph_pub: bytes = b""


@dataclass
class ChainBuffer:
    """Data of a command chain (CLA bit ``10``) waiting for its last command."""

    ins: int
    p1: int
    p2: int
    sm: bool
    data: bytes = b""


@dataclass
class SessionState:
    """What lasts from power-on (or reset) to power-off: volatile, never saved."""

    interface: Interface
    uid: bytes
    current_df: DedicatedFile
    current_ef: FileSpec | None = None
    sm: SecureMessaging | None = None
    pace: PaceRun | None = None
    pace_password: PasswordRef | None = None  # the password of the PACE run that set up SM
    verified: set[PinRef] = field(default_factory=set)
    chain: ChainBuffer | None = None
    challenge: bytes | None = None

    def end_secure_session(self) -> None:
        """Erase the SM keys and drop every access right gained in the session."""
        self.sm = None
        self.pace = None
        self.pace_password = None
        self.verified.clear()
        self.challenge = None


@dataclass
class CardContext:
    """What a command handler works on: the file tree, both states, the RNG, and a dirty flag that
    tells the dispatcher to save the image before answering."""

    fs: FileSystem
    persistent: PersistentState
    session: SessionState
    rng: Rng
    dirty: bool = False

    def changed(self) -> None:
        """Mark the persistent state as changed by the current command."""
        self.dirty = True

    @property
    def operational(self) -> bool:
        return self.persistent.lifecycle is LifeCycle.OPERATIONAL
