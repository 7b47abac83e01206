"""The demo's case whose clock pauses over a real holiday: added when a holiday is near, said so when not."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from cases.choices import State
from cases.deadlines import holiday_pauses, running_deadline
from cases.models import AfterSalesCase
from portal.management.commands.seed_demo import holiday_scenario
from portal.refdata.holidays import holidays_sync

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_on_2_december_2026_no_holiday_is_near_and_the_seed_says_so():
    holidays_sync(year=2026)
    holidays_sync(year=2027, allow_estimated=True)  # as the demo loads it: 元旦 2027 by rule
    scenario, sentence = holiday_scenario(datetime(2026, 12, 2, 10, 0, tzinfo=SH))
    assert scenario is None
    assert sentence.startswith("No demo clock crosses a holiday: the next one, 元旦 2027-01-01, starts in 30 days")
    assert "merchant_repair, 15 days" in sentence
    # two weeks later 元旦 is within the repair clock's 15 days
    scenario, sentence = holiday_scenario(datetime(2026, 12, 20, 10, 0, tzinfo=SH))
    assert scenario is not None and "元旦 2027-01-01–2027-01-03" in sentence


def test_an_empty_calendar_is_said_so():
    scenario, sentence = holiday_scenario(datetime(2026, 12, 2, 10, 0, tzinfo=SH))
    assert scenario is None and "has none" in sentence


def test_seeded_a_few_days_before_the_spring_festival_a_repair_clock_pauses_over_it(time_machine):
    time_machine.move_to(datetime(2026, 2, 10, 10, 0, tzinfo=SH), tick=False)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Holiday clock: DEMO-3007's repair clock pauses over 春节 2026-02-15–2026-02-23." in out.getvalue()
    case = AfterSalesCase.objects.get(order_item__order__number="DEMO-3007")
    assert case.state == State.IN_REPAIR
    clock = running_deadline(case)
    assert clock is not None and clock.name == "merchant_repair"
    pause = holiday_pauses(clock)
    assert pause is not None and [h.name for h in pause.holidays] == ["春节"] and pause.paused == timedelta(days=9)
    assert clock.due_at == clock.started_at + timedelta(days=15 + 9)
    # the address of a county-level division, by name
    from portal.models import Region, Shop

    assert Region.label_for(Shop.objects.get(code="xianguo").return_region) == "江西省 赣州市 信丰县"
