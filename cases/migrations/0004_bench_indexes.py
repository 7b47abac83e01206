"""An index for the deadline-ordered merchant queue (docs/benchmarks.md, B1).

`GET /api/v1/cases/?ordering=deadline&shop=<code>` orders one shop's cases by `deadline_due_at, id`. The existing
`case_shop_queue` (shop, state, deadline_due_at) cannot give that order across states, so PostgreSQL read and
sorted every case of the shop (20,000 for the benchmark's big shop) to return 50. With (shop_id,
deadline_due_at, id) an index scan returns them in order and stops after the page, once the shop is a
constant in the query (see the selector proposal in docs/benchmarks.md).

Raw SQL, not AddIndex: the model's Meta is not changed here, so the migration state stays as it is (no
phantom RemoveIndex from makemigrations). Built CONCURRENTLY on PostgreSQL so that a live table is not locked.
"""

from django.db import migrations

INDEX = "case_shop_deadline"


def create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {INDEX} ON cases_aftersalescase (shop_id, deadline_due_at, id)"
    )


def drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0003_event_log_immutable")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
