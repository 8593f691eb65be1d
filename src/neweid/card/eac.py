"""The chip's EAC and certificate-zone state (docs/eac-profile.md): persistent CVCA trust points and the
chip's current date, and the volatile per-session state of Terminal Authentication, Chip Authentication
and the certificate-zone security environment.

Trust points and imported keys hold only what the chip needs: the holder reference (CHR), the public
point (P-521, uncompressed), the certificate role and rights (New eID CHAT), and the validity dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from neweid.formats.chat import NeidRight, Role
from neweid.formats.dates import from_compact
from neweid.formats.iso7816 import KeyRef

MAX_TRUST_POINTS = 2
CERT_ZONE_KEYS = (KeyRef.RSA_SIGN, KeyRef.RSA_ENCRYPT, KeyRef.EC_SIGN, KeyRef.EC_KEY_AGREEMENT)
RSA_KEYS = frozenset({KeyRef.RSA_SIGN, KeyRef.RSA_ENCRYPT})
SIGNING_KEYS = frozenset({KeyRef.RSA_SIGN, KeyRef.EC_SIGN})


@dataclass(frozen=True)
class TrustedKey:
    """A CV-certificate public key the chip can verify signatures with: a trust point (CVCA) or a key
    imported by PSO:Verify Certificate in this session. ``rights`` are already the AND along the chain."""

    chr: str
    point: bytes  # 04 ‖ X ‖ Y on P-521
    role: Role
    rights: NeidRight
    effective: dt.date
    expiry: dt.date

    def to_json(self) -> dict[str, object]:
        return {"chr": self.chr, "point": self.point.hex(), "role": int(self.role),
                "rights": int(self.rights), "effective": self.effective.isoformat(),
                "expiry": self.expiry.isoformat()}

    @classmethod
    def from_json(cls, obj: object) -> TrustedKey:
        """Raises ValueError/TypeError/KeyError on a bad record (the image loader wraps them)."""
        if not isinstance(obj, dict):
            raise TypeError("a trust point is an object")
        chr_, point, effective, expiry = (obj[k] for k in ("chr", "point", "effective", "expiry"))
        role, rights = obj["role"], obj["rights"]
        if not all(isinstance(v, str) for v in (chr_, point, effective, expiry)):
            raise TypeError("bad trust point fields")
        if not isinstance(role, int) or not isinstance(rights, int) or isinstance(rights, bool):
            raise TypeError("bad trust point role/rights")
        return cls(str(chr_), bytes.fromhex(str(point)), Role(role), NeidRight(rights),
                   dt.date.fromisoformat(str(effective)), dt.date.fromisoformat(str(expiry)))


class TaStep(Enum):
    """Where Terminal Authentication stands in a session."""

    CERTIFICATES = "certificates"  # MSE:Set DST / PSO:Verify Certificate
    AUTHENTICATE = "authenticate"  # MSE:Set AT done: GET CHALLENGE / EXTERNAL AUTHENTICATE expected
    DONE = "done"


@dataclass
class TaSession:
    """Volatile Terminal Authentication state."""

    step: TaStep = TaStep.CERTIFICATES
    selected: TrustedKey | None = None  # the key MSE:Set DST selected to verify the next certificate
    imported: dict[str, TrustedKey] = field(default_factory=dict)
    terminal: TrustedKey | None = None  # the terminal key named in MSE:Set AT
    comp_eph_pk: bytes | None = None  # Comp(ephPK_PCD) announced in MSE:Set AT (x-coordinate)
    aux: bytes = b""  # DO 67 (auxiliary data) of MSE:Set AT, encoded, if any
    rights: NeidRight = NeidRight.NONE  # effective rights, valid once step is DONE

    @property
    def done(self) -> bool:
        return self.step is TaStep.DONE


@dataclass
class CaSession:
    """Volatile Chip Authentication state."""

    selected: bool = False  # MSE:Set AT for CA done
    done: bool = False


@dataclass
class CertZoneSe:
    """The certificate-zone security environment: the key selected for each operation."""

    sign: KeyRef | None = None  # MSE:Set DST (41B6)
    decipher: KeyRef | None = None  # MSE:Set CT (41B8)
    agree: KeyRef | None = None  # MSE:Set AT (41A4 with 84 13)


@dataclass
class EacSession:
    """Everything of EAC and the certificate zone that a session holds."""

    ta: TaSession = field(default_factory=TaSession)
    ca: CaSession = field(default_factory=CaSession)
    se: CertZoneSe = field(default_factory=CertZoneSe)

    @property
    def rights(self) -> NeidRight:
        """The effective rights once TA and CA both succeeded (nothing before)."""
        return self.ta.rights if self.ta.done and self.ca.done else NeidRight.NONE


def parse_card_date(value: str | None) -> dt.date | None:
    return None if value is None else from_compact(value)
