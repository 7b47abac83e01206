"""The deadline calendar's version (issue #26): a one-row table whose number changes, in the writing transaction,
whenever the platform holidays or the deadline policies change, by any writer (admin, staff forms, `sync_holidays`,
a queryset update or delete, raw SQL, TRUNCATE): statement triggers on both tables. Each process keeps the
calendar it last read with the version it read it at (cases.policy.calendar); a reader that reads the version in a
statement it sends anyway (the submission's locked item) knows whether its copy is still the calendar.

The number is drawn from a sequence, never incremented: a change rolled back leaves its number unused, so a copy
read inside a transaction that later rolled back can never match a later version. PostgreSQL only (SQLite, the
demo, reads the calendar every time)."""

from django.db import migrations

FORWARD = """
CREATE SEQUENCE IF NOT EXISTS cases_calendar_version_seq;
CREATE TABLE IF NOT EXISTS cases_calendarversion (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO cases_calendarversion (id, version) VALUES (1, nextval('cases_calendar_version_seq'))
    ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE FUNCTION cases_calendar_changed() RETURNS trigger AS $$
BEGIN
    UPDATE cases_calendarversion SET version = nextval('cases_calendar_version_seq') WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cases_holiday_calendar_changed ON cases_holiday;
CREATE TRIGGER cases_holiday_calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cases_holiday
    FOR EACH STATEMENT EXECUTE FUNCTION cases_calendar_changed();
DROP TRIGGER IF EXISTS cases_deadlinepolicy_calendar_changed ON cases_deadlinepolicy;
CREATE TRIGGER cases_deadlinepolicy_calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON cases_deadlinepolicy FOR EACH STATEMENT EXECUTE FUNCTION cases_calendar_changed();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS cases_holiday_calendar_changed ON cases_holiday;
DROP TRIGGER IF EXISTS cases_deadlinepolicy_calendar_changed ON cases_deadlinepolicy;
DROP FUNCTION IF EXISTS cases_calendar_changed();
DROP TABLE IF EXISTS cases_calendarversion;
DROP SEQUENCE IF EXISTS cases_calendar_version_seq;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("cases", "0017_queue_summary_covering_index")]
    operations = [migrations.RunPython(forward, backward)]
