"""Staff groups (lifecycle.md "Parties"): `agents` handle arbitration; `supervisors` also reassign and
edit platform settings. Permissions are created first: on a fresh database Django only creates them after
the whole migrate run, too late for this migration."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

AGENT_PERMISSIONS = [
    ("cases", "rule_case"),
    ("cases", "view_aftersalescase"),
    ("cases", "view_caseevent"),
    ("cases", "view_caseevidence"),
    ("cases", "view_casemessage"),
    ("cases", "view_refund"),
    ("cases", "view_deadline"),
    ("cases", "add_casemessage"),
]
SUPERVISOR_EXTRA = [
    ("cases", "reassign_case"),
    ("cases", "edit_platform_settings"),
    ("cases", "change_aftersalescase"),
] + [
    ("cases", f"{verb}_{model}")
    for model in ("holiday", "deadlinepolicy", "platformsetting")
    for verb in ("add", "change", "delete", "view")
]


def _permissions(apps, pairs):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for app_label, codename in pairs:
        perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if perm is None:
            raise RuntimeError(f"permission {app_label}.{codename} does not exist")
        found.append(perm)
    return found


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    agents, _ = Group.objects.get_or_create(name="agents")
    supervisors, _ = Group.objects.get_or_create(name="supervisors")
    agent_perms = _permissions(apps, AGENT_PERMISSIONS)
    agents.permissions.add(*agent_perms)
    supervisors.permissions.add(*agent_perms, *_permissions(apps, SUPERVISOR_EXTRA))


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=["agents", "supervisors"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0002_regions"),
        ("cases", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
    ]
