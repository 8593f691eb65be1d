"""Checking the audit chain: every entry's hash, every link, no gap, and the head."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from neweid.server.audit.hashing import GENESIS_HASH, entry_hash
from neweid.server.audit.models import AuditChainHead, AuditEntry

_FIELDS = ("seq", "time", "actor", "function", "object_type", "object_id", "result", "source",
           "error_code", "extra", "prev_hash", "hash")


class BreakReason(StrEnum):
    ALTERED = "altered"  # the entry's content no longer matches its hash
    REMOVED = "removed"  # an entry is missing (gap, broken link to a vanished entry, truncated tail)
    REORDERED = "reordered"  # intact entries found out of their chained order


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: BreakReason
    detail: str


@dataclass(frozen=True)
class ChainVerification:
    entries: int
    last_seq: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


_MAX_WALK = 10_000  # how far back a moved entry is followed to the verified part of the chain


def _seq_of_hash(value: str) -> int | None:
    return AuditEntry.objects.filter(hash=value).values_list("seq", flat=True).first()


def _original_seq(row: dict[str, Any], position: int) -> int | None:
    """Where an entry belongs by its links: follow prev_hash back to the already verified entries."""
    previous = str(row["prev_hash"])
    for steps in range(1, _MAX_WALK + 1):
        if previous == GENESIS_HASH:
            return steps
        found = AuditEntry.objects.filter(hash=previous).values_list("seq", "prev_hash").first()
        if found is None:
            return None
        if found[0] < position:
            return int(found[0]) + steps
        previous = str(found[1])
    return None


def _check_entry(row: dict[str, Any], expected_seq: int, previous_hash: str) -> ChainBreak | None:
    seq = int(row["seq"])
    if seq != expected_seq:
        missing = (f"entry {expected_seq} is" if seq == expected_seq + 1
                   else f"entries {expected_seq}..{seq - 1} are")
        return ChainBreak(expected_seq, BreakReason.REMOVED, f"{missing} missing")
    if entry_hash(row) != row["hash"]:
        original = _original_seq(row, seq)
        if original is not None and original != seq and entry_hash({**row, "seq": original}) == row["hash"]:
            return ChainBreak(seq, BreakReason.REORDERED, f"entry {original} was found at position {seq}")
        predecessor_gone = row["prev_hash"] != GENESIS_HASH and _seq_of_hash(row["prev_hash"]) is None
        if predecessor_gone and any(entry_hash({**row, "seq": candidate}) == row["hash"]
                                    for candidate in range(seq + 1, seq + 1 + _MAX_WALK)):
            return ChainBreak(seq, BreakReason.REMOVED,
                              "entries before it were removed and the rest renumbered")
        return ChainBreak(seq, BreakReason.ALTERED, "its content does not match its hash")
    if row["prev_hash"] != previous_hash:
        if row["prev_hash"] != GENESIS_HASH and _seq_of_hash(row["prev_hash"]) is not None:
            return ChainBreak(seq, BreakReason.REORDERED, "its predecessor is elsewhere in the log")
        return ChainBreak(seq, BreakReason.REMOVED, "its predecessor is missing")
    return None


def verify_chain(chunk_size: int = 5000) -> ChainVerification:
    """Walk the log in seq order; the first break (seq, reason) or None. Reads in chunks."""
    expected_seq, previous_hash, count = 1, GENESIS_HASH, 0
    rows = AuditEntry.objects.order_by("seq").values(*_FIELDS).iterator(chunk_size=chunk_size)
    for row in rows:
        broken = _check_entry(row, expected_seq, previous_hash)
        if broken is not None:
            return ChainVerification(count, expected_seq - 1, broken)
        count += 1
        expected_seq, previous_hash = int(row["seq"]) + 1, str(row["hash"])
    head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    if head is not None and (head[0] != expected_seq - 1 or head[1] != previous_hash):
        if head[0] >= expected_seq:
            return ChainVerification(count, expected_seq - 1, ChainBreak(
                expected_seq, BreakReason.REMOVED,
                f"the log ends at {expected_seq - 1}, its head at {head[0]}"))
        return ChainVerification(count, expected_seq - 1, ChainBreak(
            head[0], BreakReason.ALTERED, "the chain head does not match the last entry"))
    return ChainVerification(count, expected_seq - 1, None)
