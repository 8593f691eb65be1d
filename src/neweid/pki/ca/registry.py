"""The issued-certificate database: an SQLite file in the CA directory (stdlib :mod:`sqlite3`).

One row per certificate: serial (lower-case hex), subject (RFC 4514), card serial, usage, key algorithm,
validity, the card's issue and renewal dates (for reissue), status (good / suspended / revoked), reason,
revocation time, reissue count and predecessor, contact e-mail and phone, publication status and the
certificate itself. Every status change appends a row to ``status_events``; its sequence number is stored
on the certificate (``change_seq``), which is what delta CRLs and the OCSP cache compare against. CRLs
issued are numbered in ``crls`` (full and delta CRLs share one monotonic sequence, RFC 5280 §5.2.3).

Connections come from a small pool (WAL journal, autocommit), so the OCSP responder's short-lived worker
threads read while the RA writes; writes take ``BEGIN IMMEDIATE``. Errors surface as :class:`RegistryError`.
"""

from __future__ import annotations

import datetime
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

from neweid.pki.ca.errors import Refusal, RegistryError, UnknownCertificateError
from neweid.pki.ca.profiles import CertificateUsage, KeyAlgorithm
from neweid.pki.ca.validity import CardValidity

__all__ = [
    "CertificateRecord",
    "CertificateStatus",
    "CrlRecord",
    "Registry",
    "RevocationReason",
    "StatusEntry",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    card_serial TEXT NOT NULL,
    usage TEXT NOT NULL,
    key_algorithm TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    card_issue_date TEXT NOT NULL,
    card_renewal_date TEXT,
    status TEXT NOT NULL DEFAULT 'good',
    reason INTEGER,
    revoked_at INTEGER,
    reissue_count INTEGER NOT NULL DEFAULT 0,
    replaces TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    published INTEGER NOT NULL DEFAULT 1,
    change_seq INTEGER NOT NULL DEFAULT 0,
    der BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_card ON certificates(card_serial);
CREATE INDEX IF NOT EXISTS certificates_listed ON certificates(status) WHERE status != 'good';
CREATE INDEX IF NOT EXISTS certificates_change ON certificates(change_seq) WHERE change_seq > 0;
CREATE TABLE IF NOT EXISTS status_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    serial TEXT NOT NULL,
    status TEXT NOT NULL,
    reason INTEGER,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS crls (
    number INTEGER PRIMARY KEY,
    delta_base INTEGER,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    event_seq INTEGER NOT NULL
);
"""


class CertificateStatus(StrEnum):
    GOOD = "good"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class RevocationReason(IntEnum):
    """RFC 5280 CRLReason."""

    UNSPECIFIED = 0
    KEY_COMPROMISE = 1
    CA_COMPROMISE = 2
    AFFILIATION_CHANGED = 3
    SUPERSEDED = 4
    CESSATION_OF_OPERATION = 5
    CERTIFICATE_HOLD = 6
    REMOVE_FROM_CRL = 8
    PRIVILEGE_WITHDRAWN = 9
    AA_COMPROMISE = 10


def _ts(moment: datetime.datetime) -> int:
    return int(moment.timestamp())


def _dt(value: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(value, datetime.UTC)


def serial_hex(serial: int) -> str:
    return format(serial, "x")


@dataclass(frozen=True)
class StatusEntry:
    """What the OCSP responder needs to know about one serial."""

    status: CertificateStatus
    reason: RevocationReason | None
    revoked_at: datetime.datetime | None
    change_seq: int
    not_after: datetime.datetime


@dataclass(frozen=True)
class CertificateRecord:
    """One issued certificate as the registry keeps it."""

    serial: int
    subject: str
    card_serial: str
    usage: CertificateUsage
    key_algorithm: KeyAlgorithm
    not_before: datetime.datetime
    not_after: datetime.datetime
    card: CardValidity
    status: CertificateStatus = CertificateStatus.GOOD
    reason: RevocationReason | None = None
    revoked_at: datetime.datetime | None = None
    reissue_count: int = 0
    replaces: int | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    published: bool = True
    change_seq: int = 0
    der: bytes = b""


@dataclass(frozen=True)
class CrlRecord:
    number: int
    delta_base: int | None
    this_update: datetime.datetime
    next_update: datetime.datetime
    event_seq: int


_COLUMNS = ("serial, subject, card_serial, usage, key_algorithm, not_before, not_after, card_issue_date, "
            "card_renewal_date, status, reason, revoked_at, reissue_count, replaces, contact_email, "
            "contact_phone, published, change_seq, der")


# Built from constants only (no input): the column list and placeholders.
_INSERT = f"INSERT INTO certificates ({_COLUMNS}) VALUES ({', '.join('?' * 19)})"  # noqa: S608
_SELECT = f"SELECT {_COLUMNS} FROM certificates "  # noqa: S608


def _row_of(record: CertificateRecord) -> tuple[Any, ...]:
    return (
        serial_hex(record.serial), record.subject, record.card_serial, record.usage.value,
        record.key_algorithm.value, _ts(record.not_before), _ts(record.not_after),
        record.card.issue_date.isoformat(),
        None if record.card.renewal_date is None else record.card.renewal_date.isoformat(),
        record.status.value, None if record.reason is None else int(record.reason),
        None if record.revoked_at is None else _ts(record.revoked_at), record.reissue_count,
        None if record.replaces is None else serial_hex(record.replaces), record.contact_email,
        record.contact_phone, int(record.published), record.change_seq, record.der,
    )


def _record_of(row: tuple[Any, ...]) -> CertificateRecord:
    (serial, subject, card_serial, usage, algorithm, not_before, not_after, issue, renewal, status, reason,
     revoked_at, reissue_count, replaces, email, phone, published, change_seq, der) = row
    return CertificateRecord(
        serial=int(serial, 16), subject=subject, card_serial=card_serial, usage=CertificateUsage(usage),
        key_algorithm=KeyAlgorithm(algorithm), not_before=_dt(not_before), not_after=_dt(not_after),
        card=CardValidity(datetime.date.fromisoformat(issue),
                          None if renewal is None else datetime.date.fromisoformat(renewal)),
        status=CertificateStatus(status), reason=None if reason is None else RevocationReason(reason),
        revoked_at=None if revoked_at is None else _dt(revoked_at), reissue_count=reissue_count,
        replaces=None if replaces is None else int(replaces, 16), contact_email=email, contact_phone=phone,
        published=bool(published), change_seq=change_seq, der=bytes(der),
    )


class Registry:
    """The issued-certificate database in ``path`` (created on first use)."""

    def __init__(self, path: Path, *, pool_size: int = 8) -> None:
        self._path = Path(path)
        self._pool: list[sqlite3.Connection] = []
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._closed = False
        with self._connection() as conn:
            try:
                conn.executescript(_SCHEMA)
            except sqlite3.Error as exc:
                raise RegistryError(f"cannot initialise the certificate registry: {exc}") from exc

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for conn in self._pool:
                conn.close()
            self._pool.clear()

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection (WAL, autocommit): each caller, whatever its thread, borrows one."""
        with self._lock:
            conn = self._pool.pop() if self._pool else None
        if conn is None:
            try:
                conn = sqlite3.connect(self._path, timeout=30, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise RegistryError(f"cannot open the certificate registry: {exc}") from exc
        try:
            yield conn
        finally:
            with self._lock:
                keep = not self._closed and len(self._pool) < self._pool_size and not conn.in_transaction
                if keep:
                    self._pool.append(conn)
            if not keep:
                conn.close()

    def _write(self, statements: Iterable[tuple[str, tuple[Any, ...]]]) -> list[sqlite3.Cursor]:
        cursors: list[sqlite3.Cursor] = []
        try:
            with self._connection() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql, params in statements:
                        cursors.append(conn.execute(sql, params))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            raise RegistryError(f"registry constraint violated: {exc}", Refusal.DUPLICATE) from exc
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot write the certificate registry: {exc}") from exc
        return cursors

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._connection() as conn:
                return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot read the certificate registry: {exc}") from exc

    # -- certificates ---------------------------------------------------------------------------------

    def add(self, record: CertificateRecord) -> None:
        """Insert a newly issued certificate (:class:`RegistryError` DUPLICATE if the serial exists)."""
        self._write([(_INSERT, _row_of(record))])

    def add_many(self, records: Iterable[CertificateRecord]) -> None:
        """Bulk insert (used by migrations and benchmarks), one transaction."""
        try:
            with self._connection() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany(_INSERT, (_row_of(r) for r in records))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot write the certificate registry: {exc}") from exc

    def find(self, serial: int) -> CertificateRecord | None:
        rows = self._query(_SELECT + "WHERE serial = ?", (serial_hex(serial),))
        return _record_of(rows[0]) if rows else None

    def get(self, serial: int) -> CertificateRecord:
        record = self.find(serial)
        if record is None:
            raise UnknownCertificateError(f"no certificate with serial {serial:x}")
        return record

    def by_card(self, card_serial: str) -> list[CertificateRecord]:
        rows = self._query(_SELECT + "WHERE card_serial = ? ORDER BY not_before", (card_serial,))
        return [_record_of(row) for row in rows]

    def count(self) -> int:
        return int(self._query("SELECT count(*) FROM certificates")[0][0])

    def status_of(self, serial: int) -> StatusEntry | None:
        """The status row of ``serial`` (None if this CA never issued it): the OCSP responder's lookup."""
        rows = self._query("SELECT status, reason, revoked_at, change_seq, not_after FROM certificates "
                           "WHERE serial = ?", (serial_hex(serial),))
        if not rows:
            return None
        status, reason, revoked_at, change_seq, not_after = rows[0]
        return StatusEntry(CertificateStatus(status), None if reason is None else RevocationReason(reason),
                           None if revoked_at is None else _dt(revoked_at), change_seq, _dt(not_after))

    def set_status(
        self,
        serial: int,
        status: CertificateStatus,
        reason: RevocationReason | None,
        at: datetime.datetime,
    ) -> CertificateRecord:
        """Record a status change and its event; returns the updated record."""
        key = serial_hex(serial)
        when = _ts(at)
        revoked_at = None if status is CertificateStatus.GOOD else when
        code = None if reason is None else int(reason)
        cursors = self._write([
            ("INSERT INTO status_events (serial, status, reason, at) VALUES (?, ?, ?, ?)",
             (key, status.value, code, when)),
            ("UPDATE certificates SET status = ?, reason = ?, revoked_at = ?, "
             "change_seq = (SELECT max(seq) FROM status_events) WHERE serial = ?",
             (status.value, code if status is not CertificateStatus.GOOD else None, revoked_at, key)),
        ])
        if cursors[1].rowcount != 1:
            raise UnknownCertificateError(f"no certificate with serial {serial:x}")
        return self.get(serial)

    def set_contact(self, serial: int, email: str | None, phone: str | None) -> None:
        cursors = self._write([(
            "UPDATE certificates SET contact_email = ?, contact_phone = ? WHERE serial = ?",
            (email, phone, serial_hex(serial)))])
        if cursors[0].rowcount != 1:
            raise UnknownCertificateError(f"no certificate with serial {serial:x}")

    def set_published(self, serial: int, published: bool) -> None:
        cursors = self._write([("UPDATE certificates SET published = ? WHERE serial = ?",
                                (int(published), serial_hex(serial)))])
        if cursors[0].rowcount != 1:
            raise UnknownCertificateError(f"no certificate with serial {serial:x}")

    # -- CRL support ------------------------------------------------------------------------------------

    def listed_entries(self) -> Iterator[tuple[str, int, int | None]]:
        """(serial hex, revocation time, reason) of every suspended or revoked certificate, one pass."""
        try:
            with self._connection() as conn:
                cursor = conn.execute(
                    "SELECT serial, revoked_at, reason FROM certificates WHERE status != 'good'")
                while batch := cursor.fetchmany(65536):
                    yield from batch
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot read the certificate registry: {exc}") from exc

    def changed_since(self, event_seq: int) -> Iterator[tuple[str, str, int | None, int | None]]:
        """(serial hex, status, reason, revocation time) of certificates whose status changed after
        ``event_seq``."""
        try:
            with self._connection() as conn:
                cursor = conn.execute(
                    "SELECT serial, status, reason, revoked_at FROM certificates WHERE change_seq > ?",
                    (event_seq,))
                while batch := cursor.fetchmany(65536):
                    yield from batch
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot read the certificate registry: {exc}") from exc

    def last_event_seq(self) -> int:
        return int(self._query("SELECT coalesce(max(seq), 0) FROM status_events")[0][0])

    def record_crl(
        self,
        *,
        delta_base: int | None,
        this_update: datetime.datetime,
        next_update: datetime.datetime,
        event_seq: int,
    ) -> CrlRecord:
        """Allocate the next CRL number (shared by full and delta CRLs) and remember what it covers."""
        try:
            with self._connection() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    number = int(conn.execute("SELECT coalesce(max(number), 0) + 1 FROM crls").fetchone()[0])
                    conn.execute("INSERT INTO crls (number, delta_base, this_update, next_update, event_seq) "
                                 "VALUES (?, ?, ?, ?, ?)",
                                 (number, delta_base, _ts(this_update), _ts(next_update), event_seq))
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot write the certificate registry: {exc}") from exc
        return CrlRecord(number, delta_base, this_update, next_update, event_seq)

    def last_crl_number(self) -> int:
        return int(self._query("SELECT coalesce(max(number), 0) FROM crls")[0][0])

    def last_full_crl(self) -> CrlRecord | None:
        rows = self._query("SELECT number, delta_base, this_update, next_update, event_seq FROM crls "
                           "WHERE delta_base IS NULL ORDER BY number DESC LIMIT 1")
        if not rows:
            return None
        number, base, this_update, next_update, seq = rows[0]
        return CrlRecord(number, base, _dt(this_update), _dt(next_update), seq)
