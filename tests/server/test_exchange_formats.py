"""The MGMT-1 exchange file format (JSON Lines with a header): round trips of every file type, canonical
bytes, and the strict parser's refusals."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neweid.server.exchange.errors import ExchangeFileError
from neweid.server.exchange.fileformat import (
    RECORD_TYPES,
    AcceptedRecord,
    CardPerson,
    FileType,
    PackageRecord,
    Record,
    StatusRecord,
    decode_file,
    encode_file,
)

CREATED = datetime.datetime(2026, 10, 1, 2, 0, tzinfo=datetime.UTC)
OFFICE = "6300500001"

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_times = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1),  # noqa: DTZ001
                      timezones=st.just(datetime.UTC))
_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 1, 1))
_id_numbers = st.from_regex(r"[A-Z][12][0-9]{8}", fullmatch=True)
_serials = st.from_regex(r"[A-Z]{2}[0-9]{7}", fullmatch=True)
_offices = st.from_regex(r"[0-9]{10}", fullmatch=True)


def _strategy(hint: Any, meta: Any) -> st.SearchStrategy[Any]:
    import types
    from typing import Union, get_args, get_origin

    if get_origin(hint) in (Union, types.UnionType):
        (inner,) = [a for a in get_args(hint) if a is not type(None)]
        return st.none() | _strategy(inner, meta)
    if "choices" in meta:
        return st.sampled_from(sorted(meta["choices"]))
    if "pattern" in meta:
        return st.from_regex(meta["pattern"], fullmatch=True)
    if hint is str:
        return _text
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if hint is datetime.datetime:
        return _times
    if hint is datetime.date:
        return _dates
    if get_origin(hint) is tuple:
        return st.lists(_text, max_size=4).map(tuple)
    if dataclasses.is_dataclass(hint):
        return _records(hint)
    raise AssertionError(hint)


def _records(cls: Any) -> st.SearchStrategy[Any]:
    from typing import get_type_hints

    hints = get_type_hints(cls)
    return st.builds(cls, **{f.name: _strategy(hints[f.name], f.metadata) for f in dataclasses.fields(cls)})


@pytest.mark.parametrize("file_type", list(FileType))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_file_type_round_trips(file_type: FileType, data: st.DataObject) -> None:
    records = data.draw(st.lists(_records(RECORD_TYPES[file_type]), max_size=4))
    office = data.draw(_offices) if file_type.per_office else None
    batch = "B20261001-001" if file_type in (FileType.PACKAGE, FileType.STATUS) else None
    encoded = encode_file(file_type, records, office=office, created=CREATED, batch=batch)
    decoded = decode_file(encoded, expect=file_type)
    assert decoded.records == tuple(records)
    assert (decoded.header.type, decoded.header.office, decoded.header.batch) == (file_type, office, batch)
    assert decoded.header.count == len(records) and decoded.header.created == CREATED
    again = encode_file(file_type, list(decoded.records), office=office, created=CREATED, batch=batch)
    assert again == encoded


def _accepted(**changes: Any) -> AcceptedRecord:
    values: dict[str, Any] = {
        "application_id": 7, "kind": "nationwide_replacement", "id_number": "A123456789", "surname": "陳",
        "given_name": "志明", "romanised_name": "CHEN, CHIH-MING", "sex": "M",
        "birth_date": datetime.date(1990, 5, 1), "card_serial": "AB1234567", "pickup_office": OFFICE,
        "issue_date": datetime.date(2026, 10, 1), "renewal_date": datetime.date(2036, 10, 1),
        "certificate": "pending"}
    values.update(changes)
    return AcceptedRecord(**values)


def test_the_bytes_are_canonical_and_the_header_carries_the_body_digest() -> None:
    encoded = encode_file(FileType.ACCEPTED, [_accepted()], office=OFFICE, created=CREATED)
    head, body = encoded.split(b"\n", 1)
    header = json.loads(head)
    assert header == {"batch": None, "count": 1, "created": "2026-10-01T02:00:00Z", "office": OFFICE,
                      "sha256": hashlib.sha256(body).hexdigest(), "type": "registry.accepted", "version": 1}
    assert body == ('{"application_id":7,"birth_date":"1990-05-01","card_serial":"AB1234567",'
                    '"certificate":"pending","given_name":"志明","id_number":"A123456789",'
                    '"issue_date":"2026-10-01","kind":"nationwide_replacement","pickup_office":"6300500001",'
                    '"renewal_date":"2036-10-01","romanised_name":"CHEN, CHIH-MING","sex":"M",'
                    '"surname":"陳"}\n').encode()
    assert "A123456789" not in repr(decode_file(encoded)) + repr(_accepted())


def _tamper(encoded: bytes, line: int, change: Any) -> bytes:
    """Change one line's JSON (0 = header) and fix the header's digest and count unless told not to."""
    lines = encoded.split(b"\n")[:-1]
    document = json.loads(lines[line])
    change(document)
    lines[line] = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    if line != 0:
        header = json.loads(lines[0])
        header["sha256"] = hashlib.sha256(b"".join(x + b"\n" for x in lines[1:])).hexdigest()
        lines[0] = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return b"".join(x + b"\n" for x in lines)


GOOD = encode_file(FileType.ACCEPTED, [_accepted(), _accepted(application_id=8)], office=OFFICE,
                   created=CREATED)


@pytest.mark.parametrize(("line", "change", "message"), [
    (1, lambda d: d.update(extra=1), "unknown ['extra']"),
    (1, lambda d: d.pop("surname"), "missing ['surname']"),
    (1, lambda d: d.update(application_id="7"), "line 2.application_id: must be an integer"),
    (1, lambda d: d.update(application_id=True), "must be an integer"),
    (1, lambda d: d.update(id_number="a123456789"), "line 2.id_number: has the wrong form"),
    (2, lambda d: d.update(card_serial="AB123"), "line 3.card_serial: has the wrong form"),
    (1, lambda d: d.update(birth_date="1990-5-1"), "must be a date"),
    (1, lambda d: d.update(birth_date="1990-02-30"), "must be a date"),
    (1, lambda d: d.update(surname=None), "must not be null"),
    (0, lambda d: d.update(version=2), "version 2 is not supported"),
    (0, lambda d: d.update(count=3), "says 3 records"),
    (0, lambda d: d.update(sha256="0" * 64), "does not match the body"),
    (0, lambda d: d.update(created="2026-10-01T10:00:00+08:00"), "must be a UTC time"),
    (0, lambda d: d.update(type="registry.nothing"), "not one of the allowed values"),
    (0, lambda d: d.update(office=None), "must be an office code"),
])
def test_the_parser_is_strict(line: int, change: Any, message: str) -> None:
    with pytest.raises(ExchangeFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decode_file(_tamper(GOOD, line, change))


def test_choices_and_garbage_are_refused() -> None:
    status = encode_file(FileType.STATUS, [StatusRecord("AB1234567", "produced", "", "", "")], office=None,
                         created=CREATED, batch="B1")
    with pytest.raises(ExchangeFileError, match=r"line 2\.outcome: is not one of the allowed values"):
        decode_file(_tamper(status, 1, lambda d: d.update(outcome="lost")))
    with pytest.raises(ExchangeFileError, match=r"a registry\.accepted file was expected"):
        decode_file(status, expect=FileType.ACCEPTED)
    for garbage in (b"", b"not json\n", GOOD[:-1], b"[]\n", GOOD.replace(b"\n", b"\r\n"),
                    b'{"a": NaN}\n', "é".encode("latin-1") + b"\n"):
        with pytest.raises(ExchangeFileError):
            decode_file(garbage)


def test_the_writer_refuses_what_the_reader_would() -> None:
    with pytest.raises(ExchangeFileError, match="per office"):
        encode_file(FileType.ACCEPTED, [_accepted()], office=None, created=CREATED)
    with pytest.raises(ExchangeFileError, match="AcceptedRecord records only"):
        encode_file(FileType.ACCEPTED, [StatusRecord("AB1234567", "produced", "", "", "")], office=OFFICE,
                    created=CREATED)
    with pytest.raises(ExchangeFileError, match="timezone-aware"):
        encode_file(FileType.ACCEPTED, [_accepted()], office=OFFICE, created=CREATED.replace(tzinfo=None))


def test_the_package_nests_the_person_strictly() -> None:
    person = CardPerson("A123456789", "陳", "志明", "CHEN, CHIH-MING", None, "M", datetime.date(1990, 5, 1),
                        "1", "1", None, "陳大明", "林美麗", "臺北市", "63000", "63000050001", 1,
                        "臺北市中正區…", "臺北市", "中正區", "水源里")
    record = PackageRecord("AB1234567", OFFICE, "0A1B2C3D4E", None, None, datetime.date(2026, 10, 1), None,
                           True, person, "/9j/4AAQ", ("-----BEGIN CERTIFICATE-----\n",))
    encoded = encode_file(FileType.PACKAGE, [record], office=None, created=CREATED, batch="B20261001-001")
    assert decode_file(encoded).records == (record,)
    assert "A123456789" not in repr(record) + repr(person)
    with pytest.raises(ExchangeFileError, match=r"line 2.person: missing \['address'\]"):
        decode_file(_tamper(encoded, 1, lambda d: d["person"].pop("address")))
    with pytest.raises(ExchangeFileError, match=r"line 2.certificates\[0\]: must be a string"):
        decode_file(_tamper(encoded, 1, lambda d: d.update(certificates=[1])))


def test_every_type_has_its_record_class() -> None:
    assert set(RECORD_TYPES) == set(FileType)
    assert all(issubclass(cls, Record) and cls.TYPE is kind for kind, cls in RECORD_TYPES.items())
    assert {t for t in FileType if t.per_office} == {t for t in FileType if t.value.startswith("registry.")
                                                     and t is not FileType.NOTIFICATIONS}
