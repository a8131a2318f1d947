"""Migration operations shared by the apps."""

from __future__ import annotations

from django.db import migrations


def sql_on_postgresql(create: str, drop: str) -> migrations.RunPython:
    """Run `create` (reversed by `drop`) on PostgreSQL only: database functions
    that other databases (SQLite for a first local run) do without, because the
    calling code has a Python path for them."""

    def forwards(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create)

    def backwards(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop)

    return migrations.RunPython(forwards, backwards, elidable=False)
