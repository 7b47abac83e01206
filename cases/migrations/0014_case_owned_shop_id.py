"""shop_id on every case-owned table (docs/scale.md, sharding plan): added nullable, backfilled from the case in
batches (cases.shop_backfill, each batch its own transaction: this migration is not atomic), then NOT NULL and
indexed. A notification about no case keeps a NULL shop."""

import django.db.models.deletion
from django.db import migrations, models

from cases.shop_backfill import shop_ids_backfill


def backfill(apps, schema_editor):
    shop_ids_backfill(schema_editor, "cases_caseevent", trigger="cases_caseevent_no_update")
    shop_ids_backfill(schema_editor, "cases_deadline")
    shop_ids_backfill(schema_editor, "cases_refund")
    shop_ids_backfill(schema_editor, "cases_refundpayout", via=('cases_refund', 'refund_id'))
    shop_ids_backfill(schema_editor, "cases_platformadvance")
    shop_ids_backfill(schema_editor, "cases_caseevidence")
    shop_ids_backfill(schema_editor, "cases_casemessage")
    shop_ids_backfill(schema_editor, "cases_notification")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0013_visits_and_shop_notices"),
        ("portal", "0010_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="deadline", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="refund", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="refundpayout", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="platformadvance", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="caseevidence", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="casemessage", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AddField(
            model_name="notification", name="shop",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="caseevent", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="deadline", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="refund", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="refundpayout", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="platformadvance", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="caseevidence", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="casemessage", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=False,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
        migrations.AlterField(
            model_name="notification", name="shop",
            field=models.ForeignKey(blank=True, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="portal.shop", verbose_name="店铺"),
        ),
    ]
