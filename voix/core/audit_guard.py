"""Database triggers that keep the audit log append-only, whatever code runs.

Installed by migration core.0002. The test suite lifts them only around tests that
empty the whole database between runs (transactional tests), never inside a test.
"""

MESSAGE = "Le journal d''audit est en ajout seul : ni modification ni suppression."

INSTALL = {
    "sqlite": [
        f"CREATE TRIGGER core_auditevent_no_{op.lower()} BEFORE {op} ON core_auditevent "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
        for op in ("UPDATE", "DELETE")
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION core_auditevent_refuse() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql;",
        "CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse();",
        "CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent "
        "FOR EACH STATEMENT EXECUTE FUNCTION core_auditevent_refuse();",
    ],
}
REMOVE = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS core_auditevent_no_update;",
        "DROP TRIGGER IF EXISTS core_auditevent_no_delete;",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent;",
        "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;",
    ],
}


def _run(connection, statements):
    with connection.cursor() as cursor:
        for statement in statements.get(connection.vendor, []):
            cursor.execute(statement)


def install_guards(connection) -> None:
    """Refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL) on the audit log table."""
    _run(connection, INSTALL)


def remove_guards(connection) -> None:
    """Lift the guards (test harness only: to empty the database between tests)."""
    _run(connection, REMOVE)
