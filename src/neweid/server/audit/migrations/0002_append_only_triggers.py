"""Database-level protection of the audit log, and the chain head row.

PostgreSQL: a row trigger refuses UPDATE and DELETE (TRUNCATE needs the table owner; the application's
production role should not own the table). SQLite: a trigger refuses UPDATE (DELETE stays possible at the
SQL level so that test databases can be flushed; the model refuses it, and verification detects it).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

POSTGRES_UP = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""
SQLITE_UP = """
CREATE TRIGGER audit_entry_append_only BEFORE UPDATE ON audit_auditentry
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS audit_entry_append_only;"


def _run(schema_editor: Any, postgres: str, sqlite: str) -> None:
    vendor = schema_editor.connection.vendor
    sql = postgres if vendor == "postgresql" else sqlite if vendor == "sqlite" else ""
    if sql:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def install(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, POSTGRES_UP, SQLITE_UP)
    head = apps.get_model("audit", "AuditChainHead")
    head.objects.using(schema_editor.connection.alias).get_or_create(pk=1, defaults={"last_seq": 0,
                                                                                   "last_hash": "0" * 64})


def uninstall(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, POSTGRES_DOWN, SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = (("audit", "0001_initial"),)
    operations = (migrations.RunPython(install, uninstall),)
