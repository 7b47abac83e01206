"""The statutory holidays (法定节假日) of the People's Republic of China from the `holidays` package, as
platform holidays (cases.Holiday) that pause every running clock (`manage.py sync_holidays`).

A block is what the State Council's notice announces as one break (春节 2月15日至23日 放假调休, 共9天): the
run of rest days around the statutory days, i.e. the statutory days and the days off swapped in for them,
joined by the weekend days that are not make-up workdays (调休上班). Clocks run in calendar time, so a
make-up workday changes nothing for them; it only bounds the block.

Staff stay in charge of the calendar: the sync remembers what it wrote (StatutoryHoliday) and never
changes or re-adds a holiday staff edited or removed, nor touches one staff added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import metadata

from django.db import transaction
from django.utils import timezone

from cases.deadlines import recompute_for_holidays
from cases.models import Holiday

from ..models import ReferenceRelease, StatutoryHoliday

PACKAGE = "holidays"
# The statutory holidays by their names in the package's zh_CN calendar; the eve belongs to 春节.
KEYS = {
    "元旦": "new_year", "农历除夕": "spring_festival", "春节": "spring_festival", "清明节": "qingming",
    "劳动节": "labour_day", "端午节": "dragon_boat", "中秋节": "mid_autumn", "国庆节": "national_day",
}
NAMES = {"new_year": "元旦", "spring_festival": "春节", "qingming": "清明节", "labour_day": "劳动节",
         "dragon_boat": "端午节", "mid_autumn": "中秋节", "national_day": "国庆节"}


class HolidaySyncError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Block:
    key: str
    name: str
    start_date: date
    end_date: date

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


@dataclass
class HolidayPlan:
    year: int
    official: bool
    version: str
    add: list[Block] = field(default_factory=list)
    update: list[tuple[StatutoryHoliday, Block]] = field(default_factory=list)
    remove: list[StatutoryHoliday] = field(default_factory=list)
    adopt: list[tuple[Holiday, Block]] = field(default_factory=list)  # staff had already entered it
    kept_staff_edit: list[tuple[StatutoryHoliday, Block | None]] = field(default_factory=list)
    kept_staff_removal: list[tuple[StatutoryHoliday, Block | None]] = field(default_factory=list)
    unchanged: list[Block] = field(default_factory=list)
    moved_clocks: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.add or self.update or self.remove or self.adopt)

    def counts(self) -> dict[str, int]:
        return {"add": len(self.add), "update": len(self.update), "remove": len(self.remove),
                "adopt": len(self.adopt), "kept_staff_edit": len(self.kept_staff_edit),
                "kept_staff_removal": len(self.kept_staff_removal), "unchanged": len(self.unchanged),
                "moved_clocks": self.moved_clocks}


def package_version() -> str:
    return metadata.version(PACKAGE)


def _calendar(years: set[int]):
    import holidays  # the package, imported here so that a missing install fails only this command

    return holidays.China(years=years, language="zh_CN")


def has_state_council_schedule(year: int) -> bool:
    """Whether the installed package carries the State Council's notice for `year` (its make-up workdays and
    swapped days off), rather than only the statutory days computed by rule."""
    from holidays.countries.china import ChinaStaticHolidays

    calendar = _calendar({year})
    return (year in getattr(ChinaStaticHolidays, "special_public_holidays", {})
            or any(d.year == year for d in getattr(calendar, "weekend_workdays", ())))


def makeup_workdays(year: int) -> list[date]:
    """The make-up workdays (调休上班) of `year`: weekend days the State Council's notice makes working days,
    e.g. 2026-01-04, 02-14, 02-28, 05-09, 09-20, 10-10. Empty for a year the installed package has no notice
    for. Clocks run in calendar time (lifecycle.md, "Deadlines"), so these change no due time; they bound the
    blocks (statutory_blocks) and `sync_holidays` lists them."""
    return sorted(d for d in getattr(_calendar({year}), "weekend_workdays", ()) if d.year == year)


def statutory_blocks(year: int) -> list[Block]:
    """The statutory holiday blocks of `year` (a block is filed under the year of its statutory days)."""
    calendar = _calendar({year - 1, year, year + 1})
    workdays = set(getattr(calendar, "weekend_workdays", ()))

    def rest(day: date) -> bool:
        return day in calendar or (day.weekday() >= 5 and day not in workdays)

    blocks: list[Block] = []
    seen: set[date] = set()
    for day in sorted(d for d in calendar if d.year == year):
        if day in seen:
            continue
        start = end = day
        while rest(start - timedelta(days=1)):
            start -= timedelta(days=1)
        while rest(end + timedelta(days=1)):
            end += timedelta(days=1)
        span = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        seen.update(span)
        keys: list[str] = []
        for d in span:
            for label in calendar.get_list(d):
                key = KEYS.get(label.split("（")[0].strip())
                if key and key not in keys:
                    keys.append(key)
        if not keys:
            continue  # only swapped days off: they belong to a block already seen
        blocks.append(Block(key="+".join(keys), name="、".join(NAMES[k] for k in keys),
                            start_date=start, end_date=end))
    return blocks


def _same(holiday: Holiday, record: StatutoryHoliday) -> bool:
    return (holiday.name, holiday.start_date, holiday.end_date) == (record.name, record.start_date, record.end_date)


def holidays_sync(*, year: int, dry_run: bool = False, allow_estimated: bool = False,
                  now: datetime | None = None) -> HolidayPlan:
    """Bring `year`'s statutory holidays into the platform calendar, leaving staff edits alone, and move every
    running clock by what the change does to it (cases.deadlines.recompute_for_holidays)."""
    official = has_state_council_schedule(year)
    if not official and not allow_estimated:
        raise HolidaySyncError(
            "no_state_council_schedule",
            f"holidays {package_version()} has no State Council schedule for {year} yet "
            f"(only the statutory days by rule); install a newer release or pass --allow-estimated")
    blocks = {b.key: b for b in statutory_blocks(year)}
    plan = HolidayPlan(year=year, official=official, version=package_version())
    with transaction.atomic():
        records = {r.key: r for r in StatutoryHoliday.objects.select_for_update().filter(year=year)}
        calendar = {h.pk: h for h in Holiday.objects.select_for_update()}
        previous = list(calendar.values())
        for key, block in blocks.items():
            record = records.get(key)
            if record is None:
                match = next((h for h in calendar.values() if (h.start_date, h.end_date)
                              == (block.start_date, block.end_date)), None)
                if match is not None:
                    plan.adopt.append((match, block))
                else:
                    plan.add.append(block)
                continue
            holiday = calendar.get(record.holiday_id) if record.holiday_id else None
            if holiday is None:
                plan.kept_staff_removal.append((record, block))
            elif not _same(holiday, record):
                plan.kept_staff_edit.append((record, block))
            elif (record.name, record.start_date, record.end_date) != (block.name, block.start_date, block.end_date):
                plan.update.append((record, block))
            else:
                plan.unchanged.append(block)
        for key, record in records.items():
            if key in blocks:
                continue
            holiday = calendar.get(record.holiday_id) if record.holiday_id else None
            if holiday is None:
                plan.kept_staff_removal.append((record, None))
            elif not _same(holiday, record):
                plan.kept_staff_edit.append((record, None))
            else:
                plan.remove.append(record)
        if dry_run:
            transaction.set_rollback(True)
            return plan
        synced_at = now or timezone.now()
        for block in plan.add:
            holiday = Holiday.objects.create(name=block.name, start_date=block.start_date, end_date=block.end_date)
            StatutoryHoliday.objects.create(year=year, key=block.key, name=block.name, start_date=block.start_date,
                                            end_date=block.end_date, holiday_id=holiday.pk, synced_at=synced_at)
        for holiday, block in plan.adopt:
            StatutoryHoliday.objects.create(year=year, key=block.key, name=holiday.name, start_date=holiday.start_date,
                                            end_date=holiday.end_date, holiday_id=holiday.pk, synced_at=synced_at)
        for record, block in plan.update:
            Holiday.objects.filter(pk__in=_ids(record.holiday_id)).update(
                name=block.name, start_date=block.start_date, end_date=block.end_date)
            record.name, record.start_date, record.end_date = block.name, block.start_date, block.end_date
            record.synced_at = synced_at
            record.save(update_fields=["name", "start_date", "end_date", "synced_at"])
        for record in plan.remove:
            Holiday.objects.filter(pk__in=_ids(record.holiday_id)).delete()
            record.delete()
        if plan.add or plan.update or plan.remove:
            plan.moved_clocks = recompute_for_holidays(now=now, previous=previous)
        if official:
            ReferenceRelease.objects.create(kind=ReferenceRelease.Kind.HOLIDAYS, package=PACKAGE,
                                            version=plan.version, data_year=year, applied_at=synced_at,
                                            summary=plan.counts())
    return plan


def _ids(pk: int | None) -> list[int]:
    """The calendar row a synced holiday points at, if any (none matches no row, as `pk=None` did)."""
    return [] if pk is None else [pk]
