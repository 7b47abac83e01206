"""Issue #15. Installations made earlier gave the simulated courier a secret written in the code, so anyone
could sign its events: give it a random one (the simulator reads the secret from this row). And event ids
are compared whole for replays: the column takes 255 characters, a longer id is refused, never cut."""

from django.db import migrations, models


def randomise_default_secret(apps, schema_editor):
    from pickups.courier_secrets import is_weak, new_secret

    Courier = apps.get_model("pickups", "Courier")
    for courier in Courier.objects.filter(code="simulated"):
        if is_weak(courier.secret):
            courier.secret = new_secret()
            courier.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [("pickups", "0002_simulated_courier")]

    operations = [
        migrations.RunPython(randomise_default_secret, migrations.RunPython.noop),
        migrations.AlterField(model_name="courierevent", name="event_id", field=models.CharField(max_length=255)),
    ]
