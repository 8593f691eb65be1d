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

from neweid.card.eac import CERT_ZONE_KEYS, MAX_TRUST_POINTS, EacSession, TrustedKey
from neweid.card.filesystem import DedicatedFile, FileSystem
from neweid.card.pins import PinRecord
from neweid.formats.filemap import FileSpec, Interface
from neweid.formats.iso7816 import KeyRef, PasswordRef, PinRef

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
_DATE = re.compile(r"[0-9]{8}")


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
    card_date: str | None = None  # YYYYMMDD: the chip's current date (TR-03110), advanced by EAC
    trust_points: list[TrustedKey] = field(default_factory=list)  # CVCA keys, oldest first (≤ 2)
    ca_key: bytes | None = None  # PKCS#8 DER of the Chip Authentication key (P-521)
    cert_keys: dict[KeyRef, bytes] = field(default_factory=dict)  # certificate zone, PKCS#8 DER
    cert_zone_closed: bool = False  # no certificate-zone key at ACTIVATE (citizen opted out)

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
            "trust_points": [tp.to_json() for tp in self.trust_points],
            "ca_key": _b64(self.ca_key),
            "cert_keys": {f"{int(ref):02X}": _b64(der) for ref, der in sorted(self.cert_keys.items())},
            "cert_zone_closed": self.cert_zone_closed,
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
        if card_date is not None and not _DATE.fullmatch(card_date):
            raise ValueError("bad card date")
        trust_obj, keys_obj, closed = obj["trust_points"], obj["cert_keys"], obj["cert_zone_closed"]
        if not isinstance(trust_obj, list) or len(trust_obj) > MAX_TRUST_POINTS:
            raise ValueError("bad trust points")
        if not isinstance(keys_obj, dict) or not isinstance(closed, bool):
            raise TypeError("bad certificate-zone state")
        cert_keys: dict[KeyRef, bytes] = {}
        for name, der in keys_obj.items():
            ref = KeyRef(int(name, 16))
            if ref not in CERT_ZONE_KEYS:
                raise ValueError(f"{ref.name} is not a certificate-zone key")
            cert_keys[ref] = base64.b64decode(_text(der), validate=True)
        ca_key = _opt_text(obj["ca_key"])
        return cls(
            chip_serial=bytes.fromhex(_text(obj["chip_serial"])),
            lifecycle=LifeCycle(obj["lifecycle"]),
            files=files,
            aa_key=None if aa_key is None else base64.b64decode(_text(aa_key), validate=True),
            pins=pins,
            can=can,
            mrz_seed=mrz_seed,
            card_date=card_date,
            trust_points=[TrustedKey.from_json(tp) for tp in trust_obj],
            ca_key=None if ca_key is None else base64.b64decode(ca_key, validate=True),
            cert_keys=cert_keys,
            cert_zone_closed=closed,
        )


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


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
    id_picc: bytes | None = None  # Comp(the chip's PACE ephemeral public key): x-coordinate, for TA
    eac: EacSession = field(default_factory=EacSession)

    def end_secure_session(self) -> None:
        """Erase the SM keys and drop every access right gained in the session."""
        self.sm = None
        self.pace = None
        self.pace_password = None
        self.verified.clear()
        self.challenge = None
        self.id_picc = None
        self.eac = EacSession()


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
