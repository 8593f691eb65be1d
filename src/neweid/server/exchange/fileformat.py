"""The MGMT-1 exchange files: JSON Lines with a header record (docs/exchange-formats.md).

A file is UTF-8 text, one JSON object per line, every line ending in ``\\n``::

    {"batch":null,"count":2,"created":"2026-10-01T02:00:00Z","office":"6300500001","sha256":"…","type":"registry.accepted","version":1}
    {…record 1…}
    {…record 2…}

The header names the file type and its version, the office (``null`` for files not per office), the batch
(production files), when the file was made, how many records follow and the SHA-256 of the body (the
record lines, newlines included). Records are canonical JSON (keys sorted, no spaces, UTF-8), so the
same content always gives the same bytes and digest.

Parsing is strict: unknown or missing keys, wrong types, values outside a field's choices, a wrong count
or digest are all :class:`~neweid.server.exchange.errors.ExchangeFileError` naming the line. This module
is pure (no Django models, no I/O): records are frozen dataclasses.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from neweid.server.exchange.errors import ExchangeFileError

VERSION = 1
MAX_LINE = 8 * 1024 * 1024  # a production record: a photo of up to 5 MB (CARD-11) in base64, 4 certificates
CARD_SERIAL = r"[A-Z]{2}[0-9]{7}"
ID_NUMBER = r"[A-Z][0-9A-D][0-9]{8}"
OFFICE = r"[0-9]{10}"


class FileType(StrEnum):
    # to the household registration system, per office and day (Ch.6 肆.二(一), (四), (五))
    ACCEPTED = "registry.accepted"  # 換發證申請成功名單與個人資料
    FAILED = "registry.failed"  # 換發證申請失敗名單
    DEFECTIVE_RETURNS = "registry.defective_returns"  # 瑕疵退回名單
    ROUTINE = "registry.routine"  # 例行換補證名單
    FACE_CHANGES = "registry.face_changes"  # 卡面資料變更名單
    WITHDRAWN = "registry.withdrawn"  # 撤銷請領證名單
    LOSS_FLAGS = "registry.loss_flags"  # 掛失(撤掛)註記
    CANCELLATION_FLAGS = "registry.cancellation_flags"  # 卡片註銷註記 (廢止、失效)
    # from the household registration system
    NOTIFICATIONS = "registry.notifications"  # registry changes
    # with the production centre (Ch.6 肆.三)
    KEY_MATERIAL = "production.key_material"  # in: blank chips, their serials and 4 CSRs
    PACKAGE = "production.package"  # out: personal data + photo + certificates
    STATUS = "production.status"  # in: produced / defective / shipped

    @property
    def per_office(self) -> bool:
        return self.value.startswith("registry.") and self is not FileType.NOTIFICATIONS


def _choices(*values: str) -> dict[str, Any]:
    return {"choices": frozenset(values)}


def _pattern(regex: str) -> dict[str, Any]:
    return {"pattern": re.compile(regex)}


@dataclass(frozen=True)
class Header:
    type: FileType
    office: str | None
    created: datetime.datetime
    count: int
    sha256: str
    batch: str | None = None
    version: int = VERSION


# -- records ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Record:
    TYPE: ClassVar[FileType]

    def __repr__(self) -> str:  # records hold personal data: never shown by accident
        return f"{type(self).__name__}(...)"


@dataclass(frozen=True, repr=False)
class AcceptedRecord(Record):
    application_id: int
    kind: str
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    surname: str
    given_name: str
    romanised_name: str
    sex: str
    birth_date: datetime.date
    card_serial: str = field(metadata=_pattern(CARD_SERIAL))
    pickup_office: str = field(metadata=_pattern(OFFICE))
    issue_date: datetime.date
    renewal_date: datetime.date | None
    certificate: str

    TYPE: ClassVar[FileType] = FileType.ACCEPTED


@dataclass(frozen=True, repr=False)
class FailedRecord(Record):
    application_id: int
    kind: str
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    reason: str  # the person's registration status that made the application fail
    cancelled_at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.FAILED


@dataclass(frozen=True, repr=False)
class DefectiveReturnRecord(Record):
    card_serial: str = field(metadata=_pattern(CARD_SERIAL))
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    defect_source: str = field(metadata=_choices("production", "qc", "issuance"))
    defect_note: str
    defective_at: datetime.datetime
    reproduced_as: str | None = field(metadata=_pattern(CARD_SERIAL))

    TYPE: ClassVar[FileType] = FileType.DEFECTIVE_RETURNS


@dataclass(frozen=True, repr=False)
class RoutineRecord(Record):
    card_serial: str = field(metadata=_pattern(CARD_SERIAL))
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    application_id: int
    kind: str = field(metadata=_choices("first_issuance", "reissue_loss", "replacement"))
    replacement_reason: str | None
    issued_at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.ROUTINE


@dataclass(frozen=True, repr=False)
class FaceChangeRecord(Record):
    application_id: int
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    status: str
    submitted_at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.FACE_CHANGES


@dataclass(frozen=True, repr=False)
class WithdrawnRecord(Record):
    application_id: int
    kind: str
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    cancelled_at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.WITHDRAWN


@dataclass(frozen=True, repr=False)
class LossFlagRecord(Record):
    card_serial: str = field(metadata=_pattern(CARD_SERIAL))
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    flag: str = field(metadata=_choices("lost", "loss_revoked"))
    channel: str
    at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.LOSS_FLAGS


@dataclass(frozen=True, repr=False)
class CancellationFlagRecord(Record):
    card_serial: str = field(metadata=_pattern(CARD_SERIAL))
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    flag: str = field(metadata=_choices("voided", "invalidated"))  # 廢止 / 失效
    reason: str
    at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.CANCELLATION_FLAGS


@dataclass(frozen=True, repr=False)
class NotificationRecord(Record):
    event_id: int
    kind: str = field(metadata=_choices("move", "marriage", "divorce", "death", "spouse_died", "emigration",
                                        "return", "guardianship", "name_change", "status_change"))
    id_number: str = field(metadata=_pattern(ID_NUMBER))
    effective_date: datetime.date
    recorded_at: datetime.datetime

    TYPE: ClassVar[FileType] = FileType.NOTIFICATIONS


@dataclass(frozen=True, repr=False)
class KeyMaterialRecord(Record):
    """A pre-produced blank chip: its serial and the CSRs of its four on-chip key pairs (PEM)."""

    chip_serial: str = field(metadata=_pattern(r"[0-9A-F]{8,32}"))
    csr_sign_rsa: str
    csr_encrypt_rsa: str
    csr_sign_ec: str
    csr_encrypt_ec: str

    TYPE: ClassVar[FileType] = FileType.KEY_MATERIAL


@dataclass(frozen=True, repr=False)
class StatusRecord(Record):
    serial: str = field(metadata=_pattern(CARD_SERIAL))
    outcome: str = field(metadata=_choices("produced", "defective", "shipped"))
    shipment: str  # the box list reference of shipped cards, else ""
    chip_serial: str
    defect_note: str  # what is wrong with a defective card, else ""

    TYPE: ClassVar[FileType] = FileType.STATUS


@dataclass(frozen=True, repr=False)
class CardPerson:
    """The personal data printed on the card and written to its chip (CARD-7)."""

    id_number: str = field(metadata=_pattern(ID_NUMBER))
    surname: str
    given_name: str
    romanised_name: str
    foreign_name: str | None
    sex: str
    birth_date: datetime.date
    marital_status: str
    military_status: str
    spouse_name: str | None
    father_name: str | None
    mother_name: str | None
    birthplace_name: str
    birthplace_county_code: str | None
    village_code: str
    neighbourhood: int
    address: str
    county_name: str
    township_name: str
    village_name: str

    def __repr__(self) -> str:
        return "CardPerson(...)"


@dataclass(frozen=True, repr=False)
class PackageRecord(Record):
    """One card of the integrated production package (製卡檔)."""

    serial: str = field(metadata=_pattern(CARD_SERIAL))
    pickup_office: str = field(metadata=_pattern(OFFICE))
    chip_serial: str
    reproduction_of: str | None = field(metadata=_pattern(CARD_SERIAL))  # the defective card re-made
    defective_chip_serial: str | None
    issue_date: datetime.date
    renewal_date: datetime.date | None
    certificate: bool
    person: CardPerson
    photo_jpeg: str  # base64
    certificates: tuple[str, ...]  # PEM, as issued by the citizen CA for the chip's CSRs

    TYPE: ClassVar[FileType] = FileType.PACKAGE


RECORD_TYPES: dict[FileType, type[Record]] = {cls.TYPE: cls for cls in (
    AcceptedRecord, FailedRecord, DefectiveReturnRecord, RoutineRecord, FaceChangeRecord, WithdrawnRecord,
    LossFlagRecord, CancellationFlagRecord, NotificationRecord, KeyMaterialRecord, StatusRecord,
    PackageRecord)}


# -- encoding --------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ExchangeFileError("times must be timezone-aware")
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def _line(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode("utf-8") + b"\n"


def encode_record(record: Record) -> bytes:
    """One record line (canonical JSON and its newline)."""
    return _line(_plain(record))


def encode_header(file_type: FileType, *, office: str | None, created: datetime.datetime, count: int,
                  sha256: str, batch: str | None = None) -> bytes:
    if file_type.per_office and office is None:
        raise ExchangeFileError(f"a {file_type.value} file is per office")
    return _line(_plain(Header(file_type, office, created, count, sha256, batch)))


def encode_file(file_type: FileType, records: Sequence[Record], *, office: str | None,
                created: datetime.datetime, batch: str | None = None) -> bytes:
    """The file's bytes: header line, then one line per record (in the order given)."""
    record_type = RECORD_TYPES[file_type]
    if any(type(r) is not record_type for r in records):
        raise ExchangeFileError(f"a {file_type.value} file holds {record_type.__name__} records only")
    body = b"".join(encode_record(r) for r in records)
    return encode_header(file_type, office=office, created=created, count=len(records),
                         sha256=hashlib.sha256(body).hexdigest(), batch=batch) + body


# -- strict decoding -------------------------------------------------------------------------------------


def _fail(where: str, message: str) -> ExchangeFileError:
    return ExchangeFileError(f"{where}: {message}")


def _is_optional(hint: Any) -> tuple[bool, Any]:
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def _value(hint: Any, raw: Any, meta: Any, where: str) -> Any:
    optional, hint = _is_optional(hint)
    if raw is None:
        if optional:
            return None
        raise _fail(where, "must not be null")
    if hint is bool:
        if not isinstance(raw, bool):
            raise _fail(where, "must be true or false")
        return raw
    if hint is int:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise _fail(where, "must be an integer")
        return raw
    if hint is str or (isinstance(hint, type) and issubclass(hint, StrEnum)):
        if not isinstance(raw, str):
            raise _fail(where, "must be a string")
        if "choices" in meta and raw not in meta["choices"]:
            raise _fail(where, "is not one of the allowed values")
        if "pattern" in meta and not meta["pattern"].fullmatch(raw):
            raise _fail(where, "has the wrong form")
        if hint is not str:
            try:
                return hint(raw)
            except ValueError:
                raise _fail(where, "is not one of the allowed values") from None
        return raw
    if hint is datetime.datetime:
        if not isinstance(raw, str) or not raw.endswith("Z"):
            raise _fail(where, "must be a UTC time (…Z)")
        try:
            return datetime.datetime.fromisoformat(raw[:-1] + "+00:00")
        except ValueError:
            raise _fail(where, "must be a UTC time (…Z)") from None
    if hint is datetime.date:
        if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise _fail(where, "must be a date (YYYY-MM-DD)")
        try:
            return datetime.date.fromisoformat(raw)
        except ValueError:
            raise _fail(where, "must be a date (YYYY-MM-DD)") from None
    if get_origin(hint) is tuple:
        (item,) = get_args(hint)[:1]
        if not isinstance(raw, list):
            raise _fail(where, "must be a list")
        return tuple(_value(item, x, {}, f"{where}[{i}]") for i, x in enumerate(raw))
    if dataclasses.is_dataclass(hint):
        return _object(hint, raw, where)
    raise _fail(where, "has an unsupported type")  # pragma: no cover (a programming error)


def _object(cls: Any, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise _fail(where, "must be an object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if set(raw) != set(fields):
        missing, unknown = sorted(set(fields) - set(raw)), sorted(set(raw) - set(fields))
        raise _fail(where, f"missing {missing}, unknown {unknown}")
    hints = get_type_hints(cls)
    return cls(**{name: _value(hints[name], raw[name], f.metadata, f"{where}.{name}")
                  for name, f in fields.items()})


def _json(line: bytes, where: str) -> Any:
    if len(line) > MAX_LINE:
        raise _fail(where, "line too long")
    try:
        return json.loads(line.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError):
        raise _fail(where, "not a JSON object") from None


def _no_constants(name: str) -> Any:
    raise ValueError(name)


@dataclass(frozen=True)
class ExchangeFile:
    header: Header
    records: tuple[Record, ...]

    def __repr__(self) -> str:
        return f"ExchangeFile({self.header.type.value}, {self.header.count} records)"


def decode_file(data: bytes, *, expect: FileType | None = None) -> ExchangeFile:
    """Parse and check a file (see the module's docstring); ``expect`` also checks its type."""
    if not isinstance(data, bytes) or not data.endswith(b"\n"):
        raise _fail("file", "must be non-empty and end with a newline")
    head, _, body = data.partition(b"\n")
    header = _object(Header, _json(head, "line 1"), "line 1")
    if header.version != VERSION:
        raise _fail("line 1", f"version {header.version} is not supported")
    if expect is not None and header.type is not expect:
        raise _fail("line 1", f"a {expect.value} file was expected")
    if header.type.per_office and (header.office is None or not re.fullmatch(OFFICE, header.office)):
        raise _fail("line 1.office", "must be an office code")
    if hashlib.sha256(body).hexdigest() != header.sha256:
        raise _fail("line 1.sha256", "does not match the body")
    lines = body.split(b"\n")[:-1] if body else []
    if len(lines) != header.count:
        raise _fail("line 1.count", f"says {header.count} records, the body has {len(lines)}")
    record_type = RECORD_TYPES[header.type]
    records = tuple(_object(record_type, _json(line, f"line {n}"), f"line {n}")
                    for n, line in enumerate(lines, start=2))
    return ExchangeFile(header, records)
