"""The shop's order items paid in a window as a range of one index (issue #18, docs/quality.md "Speed"): each
item carries a copy of its order's shop and payment time (portal.models.OrderItem), filled here from the orders.

The order of the steps keeps the backfill cheap on 1M+ items: the columns are added nullable and without the
foreign key, filled by one UPDATE joined with the orders (no foreign-key check per row), then made NOT NULL
and given their foreign key (checked by one scan) and the (shop, paid_at) index (built once, after the fill).
0013 vacuums the table so the count is read from the index alone."""

import django.db.models.deletion
from django.db import migrations, models

FILL_POSTGRESQL = """
UPDATE portal_orderitem i SET shop_id = o.shop_id, paid_at = o.paid_at
FROM portal_order o WHERE o.id = i.order_id
"""
FILL_OTHER = """
UPDATE portal_orderitem SET
    shop_id = (SELECT o.shop_id FROM portal_order o WHERE o.id = portal_orderitem.order_id),
    paid_at = (SELECT o.paid_at FROM portal_order o WHERE o.id = portal_orderitem.order_id)
"""


def fill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(FILL_POSTGRESQL if postgres else FILL_OTHER)


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0011_scorecard_speed'),
    ]

    operations = [
        migrations.AddField(
            model_name='orderitem',
            name='paid_at',
            field=models.DateTimeField(editable=False, null=True, verbose_name='付款时间'),
        ),
        migrations.AddField(
            model_name='orderitem',
            name='shop',
            field=models.ForeignKey(db_constraint=False, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                    to='portal.shop', verbose_name='店铺'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='orderitem',
            name='paid_at',
            field=models.DateTimeField(editable=False, verbose_name='付款时间'),
        ),
        migrations.AlterField(
            model_name='orderitem',
            name='shop',
            field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='+', to='portal.shop', verbose_name='店铺'),
        ),
        migrations.AddIndex(
            model_name='orderitem',
            index=models.Index(fields=['shop', 'paid_at'], name='orderitem_shop_paid'),
        ),
    ]
