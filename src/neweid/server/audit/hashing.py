"""The canonical encoding of an audit entry and its SHA-256 chain hash."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from neweid.server.errors import ValidationFailedError

GENESIS_HASH = "0" * 64

# Field order of the canonical encoding (the JSON keys are sorted anyway; this names what is covered).
HASHED_FIELDS = ("seq", "time", "actor", "function", "object_type", "object_id", "result", "source",
                 "error_code", "extra", "prev_hash")

# Keys and values that would put personal data into the log: refused at write time.
_PERSONAL_KEYS = frozenset({"id_number", "name", "chinese_name", "romanised_name", "foreign_name",
                            "birth_date", "address", "phone", "email", "password", "token", "username",
                            "otp", "secret"})
_ID_NUMBER = re.compile(r"[A-Z][1289ABCD]\d{8}")


def format_time(value: datetime.datetime) -> str:
    """UTC with microseconds, e.g. 2026-11-01T01:00:00.000000Z."""
    if value.tzinfo is None:
        raise ValidationFailedError("audit time must be timezone-aware")
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_extra(value: Any, path: str = "extra") -> None:
    """Only JSON strings, integers, booleans, null, lists and string-keyed objects; no personal data."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and _ID_NUMBER.search(value):
            raise ValidationFailedError(f"{path} looks like an ID number: personal data is not logged")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_extra(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationFailedError(f"{path} has a non-string key")
            if key.lower() in _PERSONAL_KEYS:
                raise ValidationFailedError(f"{path}.{key}: personal data is not logged")
            check_extra(item, f"{path}.{key}")
        return
    raise ValidationFailedError(f"{path}: {type(value).__name__} is not allowed in audit data")


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON of the hashed fields, keys sorted, no spaces; times as :func:`format_time`."""
    document = {name: fields[name] for name in HASHED_FIELDS}
    document["time"] = format_time(document["time"])
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(fields: Mapping[str, Any]) -> str:
    """Hex SHA-256 over the canonical encoding (which includes the predecessor's hash)."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()
