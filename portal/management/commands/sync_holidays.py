"""`manage.py sync_holidays [--year N] [--dry-run]`: the statutory holidays into the platform calendar."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases import policy
from portal.refdata.holidays import HolidayPlan, HolidaySyncError, holidays_sync, makeup_workdays


def _span(start: Any, end: Any) -> str:
    return f"{start:%Y-%m-%d}–{end:%Y-%m-%d}"


class Command(BaseCommand):
    help = ("Load the People's Republic of China statutory holidays (State Council schedule, from the `holidays` "
            "package) for the current and next year, or --year N, as platform holidays. Staff edits are kept; "
            "running clocks move by the change.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, action="append",
                            help="a calendar year (repeatable; default: the current and the next year)")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
        parser.add_argument("--allow-estimated", action="store_true",
                            help="load a year the package has no State Council schedule for (statutory days by rule)")

    def handle(self, *args: Any, **options: Any) -> None:
        this_year = policy.local_date(timezone.now()).year
        years = options["year"] or [this_year, this_year + 1]
        explicit = bool(options["year"])
        failed = []
        for year in years:
            if not 1950 <= year <= 2100:
                raise CommandError(f"--year {year}: out of range")
            try:
                plan = holidays_sync(year=year, dry_run=options["dry_run"],
                                     allow_estimated=options["allow_estimated"])
            except HolidaySyncError as exc:
                self.stderr.write(self.style.WARNING(f"{year}: {exc.detail}"))
                failed.append(year)
                continue
            self._report(plan, dry_run=options["dry_run"])
        if failed and explicit:
            raise CommandError(f"not synced: {', '.join(map(str, failed))}")

    def _report(self, plan: HolidayPlan, *, dry_run: bool) -> None:
        source = f"holidays {plan.version}" + ("" if plan.official else ", estimated: no State Council schedule")
        self.stdout.write(f"{plan.year} ({source})")
        for block in plan.add:
            self.stdout.write(f"  add      {block.name} {_span(block.start_date, block.end_date)} ({block.days} 天)")
        for holiday, block in plan.adopt:
            self.stdout.write(f"  adopt    {holiday.name} {_span(block.start_date, block.end_date)} "
                              "(already in the calendar)")
        for record, block in plan.update:
            self.stdout.write(f"  update   {record.name} {_span(record.start_date, record.end_date)} → "
                              f"{block.name} {_span(block.start_date, block.end_date)}")
        for record in plan.remove:
            self.stdout.write(f"  remove   {record.name} {_span(record.start_date, record.end_date)}")
        for record, package in plan.kept_staff_edit:
            new = f" (package: {_span(package.start_date, package.end_date)})" if package else ""
            self.stdout.write(f"  keep     {record.name}: edited by staff, left as staff set it{new}")
        for record, _block in plan.kept_staff_removal:
            self.stdout.write(f"  keep     {record.name}: removed by staff, not added again")
        for block in plan.unchanged:
            self.stdout.write(f"  same     {block.name} {_span(block.start_date, block.end_date)}")
        workdays = makeup_workdays(plan.year)
        if workdays:
            # for the operator's eye: clocks run in calendar time, so these move no due time
            self.stdout.write("  make-up workdays (调休上班, no effect on clocks): "
                              + ", ".join(f"{d:%m-%d}" for d in workdays))
        if dry_run:
            self.stdout.write("  dry run, nothing changed" + ("" if plan.changed else " (and nothing would)"))
        elif plan.changed:
            self.stdout.write(self.style.SUCCESS(f"  applied; {plan.moved_clocks} running clocks moved"))
        else:
            self.stdout.write("  already up to date")
