"""Statutory holidays from the `holidays` package: the known dates, staff edits kept, clocks moved."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Deadline, Holiday
from portal.models import ReferenceRelease, StatutoryHoliday
from portal.refdata.holidays import (
    HolidaySyncError,
    has_state_council_schedule,
    holidays_sync,
    makeup_workdays,
    statutory_blocks,
)
from portal.refdata.status import holidays_unsynced_year
from tests import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")

# 国务院办公厅关于2025年、2026年部分节假日安排的通知 (written here from the notices, not from the package)
SPRING_FESTIVAL_2025 = (date(2025, 1, 28), date(2025, 2, 4))  # 1月28日至2月4日放假调休，共8天
SPRING_FESTIVAL_2026 = (date(2026, 2, 15), date(2026, 2, 23))  # 2月15日至23日放假调休，共9天
BLOCKS_2026 = {
    "元旦": (date(2026, 1, 1), date(2026, 1, 3)), "春节": SPRING_FESTIVAL_2026,
    "清明节": (date(2026, 4, 4), date(2026, 4, 6)), "劳动节": (date(2026, 5, 1), date(2026, 5, 5)),
    "端午节": (date(2026, 6, 19), date(2026, 6, 21)), "中秋节": (date(2026, 9, 25), date(2026, 9, 27)),
    "国庆节": (date(2026, 10, 1), date(2026, 10, 7)),
}

# 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）, every block and every make-up workday
BLOCKS_2025 = {
    "元旦": (date(2025, 1, 1), date(2025, 1, 1)),  # 1月1日（周三）放假1天，不调休
    "春节": SPRING_FESTIVAL_2025,  # 1月28日（农历除夕、周二）至2月4日（周二）放假调休，共8天
    "清明节": (date(2025, 4, 4), date(2025, 4, 6)),  # 4月4日（周五）至6日（周日）放假，共3天
    "劳动节": (date(2025, 5, 1), date(2025, 5, 5)),  # 5月1日（周四）至5日（周一）放假调休，共5天
    "端午节": (date(2025, 5, 31), date(2025, 6, 2)),  # 5月31日（周六）至6月2日（周一）放假，共3天
    "国庆节、中秋节": (date(2025, 10, 1), date(2025, 10, 8)),  # 10月1日（周三）至8日（周三）放假调休，共8天
}
MAKEUP_2025 = [date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27), date(2025, 9, 28), date(2025, 10, 11)]
# 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）: 1月4日（周日）上班；2月14日（周六）、
# 2月28日（周六）上班；5月9日（周六）上班；9月20日（周日）、10月10日（周六）上班
MAKEUP_2026 = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20),
               date(2026, 10, 10)]


def calendar() -> dict[str, tuple[date, date]]:
    return {h.name: (h.start_date, h.end_date) for h in Holiday.objects.all()}


def test_a_bare_migrate_leaves_the_calendar_empty():
    assert not Holiday.objects.exists() and not StatutoryHoliday.objects.exists()


def test_the_package_gives_the_state_council_blocks():
    assert {b.name: (b.start_date, b.end_date) for b in statutory_blocks(2026)} == BLOCKS_2026
    spring = next(b for b in statutory_blocks(2025) if b.key == "spring_festival")
    assert (spring.start_date, spring.end_date) == SPRING_FESTIVAL_2025 and spring.days == 8
    merged = next(b for b in statutory_blocks(2025) if "national_day" in b.key)
    assert (merged.name, merged.start_date, merged.end_date) == ("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8))


def test_sync_fills_the_year_once_and_dry_run_writes_nothing():
    plan = holidays_sync(year=2026, dry_run=True)
    assert len(plan.add) == 7 and not Holiday.objects.exists() and not ReferenceRelease.objects.filter(
        kind="holidays").exists()
    holidays_sync(year=2026)
    assert calendar() == BLOCKS_2026
    release = ReferenceRelease.objects.get(kind="holidays", data_year=2026)
    assert release.package == "holidays" and release.version
    again = holidays_sync(year=2026)
    assert not again.changed and len(again.unchanged) == 7 and Holiday.objects.count() == 7


def test_sync_never_overwrites_a_staff_edit():
    holidays_sync(year=2026)
    Holiday.objects.filter(name="春节").update(end_date=date(2026, 2, 25))  # staff lengthened it
    Holiday.objects.filter(name="清明节").delete()  # staff removed it
    Holiday.objects.create(name="平台店庆", start_date=date(2026, 11, 11), end_date=date(2026, 11, 11))
    # as if an earlier package release had written 劳动节 one day shorter: the sync may correct its own row
    StatutoryHoliday.objects.filter(key="labour_day").update(end_date=date(2026, 5, 4))
    Holiday.objects.filter(name="劳动节").update(end_date=date(2026, 5, 4))

    dry = holidays_sync(year=2026, dry_run=True)
    assert [r.key for r, _b in dry.kept_staff_edit] == ["spring_festival"]
    assert [r.key for r, _b in dry.kept_staff_removal] == ["qingming"]
    assert [r.key for r, _b in dry.update] == ["labour_day"]

    holidays_sync(year=2026)
    now = calendar()
    assert now["春节"] == (date(2026, 2, 15), date(2026, 2, 25))
    assert "清明节" not in now and now["平台店庆"] == (date(2026, 11, 11), date(2026, 11, 11))
    assert Holiday.objects.filter(name="劳动节").count() == 1 and now["劳动节"] == BLOCKS_2026["劳动节"]


def test_a_holiday_staff_already_entered_is_adopted_not_doubled():
    Holiday.objects.create(name="春节假期", start_date=SPRING_FESTIVAL_2026[0], end_date=SPRING_FESTIVAL_2026[1])
    plan = holidays_sync(year=2026)
    assert [b.key for _h, b in plan.adopt] == ["spring_festival"]
    assert Holiday.objects.filter(start_date=SPRING_FESTIVAL_2026[0]).count() == 1


def test_a_year_without_a_state_council_schedule_is_not_loaded_silently():
    with pytest.raises(HolidaySyncError) as exc:
        holidays_sync(year=2027)
    assert exc.value.code == "no_state_council_schedule" and not Holiday.objects.exists()
    plan = holidays_sync(year=2027, allow_estimated=True)
    assert not plan.official and plan.add
    assert not ReferenceRelease.objects.filter(kind="holidays", data_year=2027).exists()  # still "not synced"
    with pytest.raises(CommandError):
        call_command("sync_holidays", "--year", "2027")


def test_clocks_across_the_spring_festival_move_by_the_overlap(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(datetime(2026, 2, 12, 10, 0, tzinfo=SH), tick=False)
    consumer, shop = f.ConsumerFactory(), f.ShopFactory()
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="other",
                                quantity=1)
    clock = Deadline.objects.get(case=case, fired_at__isnull=True, cancelled_at__isnull=True)
    assert clock.due_at == datetime(2026, 2, 17, 10, 0, tzinfo=SH)  # 5 days, no holiday yet

    with django_capture_on_commit_callbacks(execute=True):
        plan = holidays_sync(year=2026)

    clock.refresh_from_db()
    # 春节 2月15日 00:00 – 2月24日 00:00 (9 days) falls inside the running clock: it moves by exactly that
    assert clock.due_at == datetime(2026, 2, 17, 10, 0, tzinfo=SH) + timedelta(days=9)
    assert plan.moved_clocks == 1
    case.refresh_from_db()
    assert case.deadline_due_at == clock.due_at


def test_command_syncs_the_current_and_next_year(time_machine, capsys):
    time_machine.move_to(datetime(2025, 12, 2, 9, 0, tzinfo=SH), tick=False)
    call_command("sync_holidays", "--dry-run")
    assert "2025 (holidays" in capsys.readouterr().out and not Holiday.objects.exists()
    call_command("sync_holidays")
    assert set(StatutoryHoliday.objects.values_list("year", flat=True)) == {2025, 2026}
    assert holidays_unsynced_year(timezone.localdate()) is None


def test_dashboard_warns_from_1_december_while_next_year_is_not_synced(client, time_machine):
    assert holidays_unsynced_year(date(2026, 11, 30)) is None
    assert holidays_unsynced_year(date(2026, 12, 1)) == 2027
    time_machine.move_to(datetime(2026, 12, 2, 9, 0, tzinfo=SH), tick=False)
    client.force_login(f.make_staff("dave", supervisor=True))
    page = client.get(reverse("admin:cases_dashboard"))
    assert page.status_code == 200 and "sync_holidays --year 2027" in page.content.decode()
    ReferenceRelease.objects.create(kind="holidays", package="holidays", version="x", data_year=2027)
    assert "sync_holidays" not in client.get(reverse("admin:cases_dashboard")).content.decode()


def test_the_package_matches_the_2025_and_2026_notices_day_for_day():
    """Checked against the State Council's notices written out above, not against the package itself."""
    assert {b.name: (b.start_date, b.end_date) for b in statutory_blocks(2025)} == BLOCKS_2025
    assert {b.name: (b.start_date, b.end_date) for b in statutory_blocks(2026)} == BLOCKS_2026
    assert {b.name: b.days for b in statutory_blocks(2026)} == {
        "元旦": 3, "春节": 9, "清明节": 3, "劳动节": 5, "端午节": 3, "中秋节": 3, "国庆节": 7}
    assert has_state_council_schedule(2025) and has_state_council_schedule(2026)


def test_make_up_workdays_are_the_notices_weekend_working_days():
    assert makeup_workdays(2025) == MAKEUP_2025
    assert makeup_workdays(2026) == MAKEUP_2026
    assert all(d.weekday() >= 5 for d in MAKEUP_2025 + MAKEUP_2026)  # 调休上班 is always a Saturday or Sunday
    # a make-up workday bounds a block: 2026-02-14 (Sat) is worked, so 春节 starts on the 15th, not the 14th
    spring = next(b for b in statutory_blocks(2026) if b.key == "spring_festival")
    assert spring.start_date - timedelta(days=1) in makeup_workdays(2026)


def test_2027_has_no_notice_in_the_package_yet_and_is_only_estimated():
    """holidays 0.109 (pinned) predates the State Council's 2027 notice: no make-up workdays, the statutory days
    by rule. Until a release carries it, staff add or correct 2027's holidays in the admin; the later sync adopts a
    block staff entered with the notice's dates and leaves any other staff edit alone (docs/reference-data.md)."""
    assert not has_state_council_schedule(2027) and makeup_workdays(2027) == []
    new_year = next(b for b in statutory_blocks(2027) if b.key == "new_year")
    assert (new_year.start_date, new_year.end_date) == (date(2027, 1, 1), date(2027, 1, 3))  # a Friday + weekend


def test_the_command_lists_the_make_up_workdays(capsys):
    call_command("sync_holidays", "--year", "2026", "--dry-run")
    out = capsys.readouterr().out
    assert "make-up workdays (调休上班, no effect on clocks): 01-04, 02-14, 02-28, 05-09, 09-20, 10-10" in out
    assert not Holiday.objects.exists()
