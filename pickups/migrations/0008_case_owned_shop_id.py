"""shop_id on every case-owned table (docs/scale.md, sharding plan): added nullable, backfilled from the case in
batches (cases.shop_backfill, each batch its own transaction: this migration is not atomic), then NOT NULL and
indexed."""

import django.db.models.deletion
from django.db import migrations, models

from cases.shop_backfill import shop_ids_backfill


def backfill(apps, schema_editor):
    shop_ids_backfill(schema_editor, "pickups_pickup")
    shop_ids_backfill(schema_editor, "pickups_pickupevent", via=('pickups_pickup', 'pickup_id'), trigger="pickups_pickupevent_no_update")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("pickups", "0007_repair_visits_and_interception_requests"),
        ("portal", "0008_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="pickup", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="pickupevent", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="pickup", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="pickupevent", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
    ]
