"""On PostgreSQL the database itself refuses UPDATE and DELETE on the case event log."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION cases_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cases_caseevent is append-only (%% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent;
CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
