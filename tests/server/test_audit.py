"""The hash-chained audit log: append, verify, detect altered/removed/reordered entries (SEC-1, SEC-2)."""

from __future__ import annotations

import datetime
import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from hypothesis import given
from hypothesis import strategies as st

from neweid.server.audit.hashing import GENESIS_HASH, canonical_bytes, entry_hash
from neweid.server.audit.log import audited_action, record
from neweid.server.audit.models import AppendOnlyError, AuditEntry, AuditResult
from neweid.server.audit.verify import BreakReason, verify_chain
from neweid.server.errors import ConflictError, ErrorCode, ValidationFailedError

TABLE = "audit_auditentry"


def _fill(n: int) -> list[AuditEntry]:
    """n entries after those already there (migrations record role set-up)."""
    return [record("test.event", actor=f"S00000000{i % 10}", object_type="card", object_id=i,
                   extra={"n": i, "note": "値"}, source="10.0.0.1") for i in range(n)]


@contextmanager
def _tamper() -> Iterator[None]:
    """As an attacker with DDL rights: lift the database protection (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_entry_append_only")
    yield


def _sql(statement: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.mark.django_db
def test_chain_links_each_entry_to_its_predecessor() -> None:
    before = AuditEntry.objects.count()
    entries = _fill(5)
    assert [e.seq for e in entries] == [before + n for n in range(1, 6)]
    assert AuditEntry.objects.get(seq=1).prev_hash == GENESIS_HASH
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.hash
    stored = AuditEntry.objects.get(seq=entries[2].seq)
    assert entry_hash(stored.hashed_fields()) == stored.hash  # round trip through the database
    result = verify_chain()
    assert result.ok and result.entries == before + 5 and result.last_seq == before + 5


def test_canonical_encoding_is_stable() -> None:
    fields = {"seq": 1, "time": datetime.datetime(2026, 11, 1, 9, 0, tzinfo=datetime.UTC), "actor": "S1",
              "function": "f", "object_type": "", "object_id": "", "result": "success", "source": "",
              "error_code": "", "extra": {"b": 1, "a": "é"}, "prev_hash": GENESIS_HASH}
    assert canonical_bytes(fields) == (
        '{"actor":"S1","error_code":"","extra":{"a":"é","b":1},"function":"f","object_id":"",'
        '"object_type":"","prev_hash":"' + GENESIS_HASH + '","result":"success","seq":1,"source":"",'
        '"time":"2026-11-01T09:00:00.000000Z"}').encode()


@pytest.mark.django_db
def test_verify_detects_an_altered_entry() -> None:
    b = _fill(6)[0].seq - 1
    with _tamper():
        _sql(f"UPDATE {TABLE} SET result = 'failure' WHERE seq = %s", [b + 4])
    result = verify_chain()
    assert result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (b + 4, BreakReason.ALTERED)
    assert result.entries == b + 3


@pytest.mark.django_db
def test_verify_detects_an_altered_json_payload() -> None:
    seq = _fill(3)[1].seq
    entry = AuditEntry.objects.get(seq=seq)
    with _tamper():
        _sql(f"UPDATE {TABLE} SET extra = %s WHERE seq = %s", ['{"n": 99, "note": "値"}', seq])
    assert AuditEntry.objects.get(seq=seq).extra != entry.extra
    broken = verify_chain().broken
    assert broken is not None and (broken.seq, broken.reason) == (seq, BreakReason.ALTERED)


@pytest.mark.django_db
def test_verify_detects_a_removed_entry() -> None:
    b = _fill(6)[0].seq - 1
    with _tamper():
        _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [b + 3])
    broken = verify_chain().broken
    assert broken is not None and (broken.seq, broken.reason) == (b + 3, BreakReason.REMOVED)


@pytest.mark.django_db
def test_verify_detects_removal_with_renumbering() -> None:
    b = _fill(6)[0].seq - 1
    with _tamper():
        _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [b + 3])
        for seq in (b + 4, b + 5, b + 6):
            _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [seq - 1, seq])
    broken = verify_chain().broken
    assert broken is not None and (broken.seq, broken.reason) == (b + 3, BreakReason.REMOVED)


@pytest.mark.django_db
def test_verify_detects_a_truncated_tail() -> None:
    last = _fill(5)[-1].seq
    with _tamper():
        _sql(f"DELETE FROM {TABLE} WHERE seq = %s", [last])
    broken = verify_chain().broken
    assert broken is not None and (broken.seq, broken.reason) == (last, BreakReason.REMOVED)


@pytest.mark.django_db
def test_verify_detects_reordered_entries() -> None:
    b = _fill(6)[0].seq - 1
    with _tamper():  # swap positions 3 and 4
        _sql(f"UPDATE {TABLE} SET seq = -3 WHERE seq = %s", [b + 3])
        _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [b + 3, b + 4])
        _sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = -3", [b + 4])
    broken = verify_chain().broken
    assert broken is not None and (broken.seq, broken.reason) == (b + 3, BreakReason.REORDERED)


@pytest.mark.django_db
def test_orm_refuses_updates_and_deletes() -> None:
    entry = _fill(1)[0]
    entry.result = "failure"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(seq=entry.seq).update(result="failure")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert verify_chain().ok


@pytest.mark.django_db
def test_database_refuses_raw_updates() -> None:
    _fill(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(f"UPDATE {TABLE} SET result = 'failure' WHERE seq = 1")
    if connection.vendor == "postgresql":  # on SQLite only updates are refused at the SQL level
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(f"DELETE FROM {TABLE} WHERE seq = 1")
    assert verify_chain().ok


@pytest.mark.django_db
def test_personal_data_is_refused_in_extra() -> None:
    for extra in ({"id_number": "x"}, {"note": "A123456789"}, {"nested": [{"name": "王小明"}]}, {"f": 1.5}):
        with pytest.raises(ValidationFailedError):
            record("test.event", extra=extra)
    assert not AuditEntry.objects.filter(function="test.event").exists()


@pytest.mark.django_db
def test_audited_action_commits_with_its_entry_and_side_effects_on_commit(
        django_capture_on_commit_callbacks: Any) -> None:
    effects: list[str] = []
    with django_capture_on_commit_callbacks(execute=True), audited_action(
            "test.action", actor="S1", object_type="thing", durable=False) as audit:
        audit.object_id = "7"
        transaction.on_commit(lambda: effects.append("sent"))
        assert effects == []  # not before the commit
    assert effects == ["sent"]
    entry = AuditEntry.objects.get(function="test.action")
    assert (entry.result, entry.object_id, entry.actor) == (AuditResult.SUCCESS, "7", "S1")


@pytest.mark.django_db
def test_audited_action_rolls_back_and_records_the_failure(django_capture_on_commit_callbacks: Any) -> None:
    effects: list[str] = []
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ConflictError), audited_action(
            "test.action", actor="S1", durable=False):
        record("test.inner")  # part of the action: rolled back with it
        transaction.on_commit(lambda: effects.append("sent"))
        raise ConflictError()
    assert effects == []
    assert not AuditEntry.objects.filter(function="test.inner").exists()
    entry = AuditEntry.objects.get(function="test.action")
    assert (entry.result, entry.error_code) == (AuditResult.FAILURE, ErrorCode.CONFLICT.value)
    assert verify_chain().ok


@pytest.mark.django_db
def test_unexpected_errors_are_recorded_as_errors() -> None:
    with pytest.raises(RuntimeError), audited_action("test.action", actor="S1", durable=False):
        raise RuntimeError("boom")
    entry = AuditEntry.objects.get(function="test.action")
    assert (entry.result, entry.error_code) == (AuditResult.ERROR, ErrorCode.INTERNAL.value)


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory SQLite is one connection; the concurrent test runs on PostgreSQL")
    threads, per_thread, errors = 8, 10, []
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    record("test.concurrent", actor=f"S{n}", extra={"i": i})
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    result = verify_chain()
    assert result.ok
    assert AuditEntry.objects.filter(function="test.concurrent").count() == threads * per_thread


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["a", "b", "count", "office", "說明"]), children, max_size=3),
    max_leaves=8)


@given(extra=st.dictionaries(st.sampled_from(["x", "y", "z"]), json_values, max_size=3),
       seq=st.integers(1, 2**62), micro=st.integers(0, 999_999))
def test_canonical_encoding_round_trip(extra: dict[str, Any], seq: int, micro: int) -> None:
    time = datetime.datetime(2026, 11, 1, 9, 0, 0, micro, tzinfo=datetime.UTC)
    fields = {"seq": seq, "time": time, "actor": "S1", "function": "f", "object_type": "t",
              "object_id": "1", "result": "success", "source": "::1", "error_code": "", "extra": extra,
              "prev_hash": GENESIS_HASH}
    decoded = json.loads(canonical_bytes(fields))
    assert decoded == {**fields, "time": time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    reordered = {**dict(reversed(list(fields.items()))), "extra": dict(reversed(list(extra.items())))}
    assert entry_hash(reordered) == entry_hash(fields)
    assert entry_hash({**fields, "seq": seq + 1}) != entry_hash(fields)
