"""PickupEvent is append-only like CaseEvent: the model refuses, and on PostgreSQL the database refuses
UPDATE and DELETE too; a pickup with events can no longer be deleted (PROTECT).
Pickup.courier_cancelled_at records that the courier took a cancellation, so the outbox sweep re-sends the
ones it did not (pickups cancelled before this migration count as told, as they were treated until now)."""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION pickups_pickupevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'pickups_pickupevent is append-only (%% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS pickups_pickupevent_no_update ON pickups_pickupevent;
CREATE TRIGGER pickups_pickupevent_no_update BEFORE UPDATE OR DELETE ON pickups_pickupevent
    FOR EACH ROW EXECUTE FUNCTION pickups_pickupevent_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS pickups_pickupevent_no_update ON pickups_pickupevent;
DROP FUNCTION IF EXISTS pickups_pickupevent_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def cancelled_before_count_as_told(apps, schema_editor):
    Pickup = apps.get_model("pickups", "Pickup")
    Pickup.objects.filter(state="cancelled", courier_cancelled_at__isnull=True).update(
        courier_cancelled_at=models.F("closed_at"))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):

    dependencies = [
        ("pickups", "0003_courier_secrets_and_event_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pickupevent",
            name="pickup",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="events",
                                    to="pickups.pickup"),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddField(
            model_name="pickup",
            name="courier_cancelled_at",
            field=models.DateTimeField(blank=True, null=True,
                                       help_text="快递公司确认取消预约的时间；为空时由重发任务再次通知"),
        ),
        migrations.RunPython(cancelled_before_count_as_told, migrations.RunPython.noop),
    ]
