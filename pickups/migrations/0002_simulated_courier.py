"""After `migrate` alone the simulated courier exists and is the default (lifecycle.md)."""

import secrets
from decimal import Decimal

from django.db import migrations


def create_simulated(apps, schema_editor):
    from pickups import conf

    Courier = apps.get_model("pickups", "Courier")
    if Courier.objects.filter(code="simulated").exists():
        return
    Courier.objects.filter(is_default=True).update(is_default=False)
    Courier.objects.create(
        code="simulated", name="模拟快递", secret=secrets.token_hex(32), base_url=conf.simulated_base_url(),
        max_weight_grams=30000, max_side_cm=150, capacity_per_slot=10,
        first_kg_fee=Decimal("12.00"), extra_kg_fee=Decimal("2.00"),
        covers_remote=False, is_default=True, active=True,
    )


def remove_simulated(apps, schema_editor):
    apps.get_model("pickups", "Courier").objects.filter(code="simulated", pickups__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("pickups", "0001_initial")]

    operations = [migrations.RunPython(create_simulated, remove_simulated)]
