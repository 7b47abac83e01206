"""After 0012 rewrote every order item: VACUUM ANALYZE, so the visibility map lets the scorecard count the
shop's items paid from the (shop, paid_at) index alone and the planner knows the new columns (PostgreSQL;
outside a transaction, hence a migration of its own)."""

from django.db import migrations


def vacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("VACUUM ANALYZE portal_orderitem")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('portal', '0012_orderitem_shop_paid'),
    ]

    operations = [
        migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True),
    ]
