"""What the policy tells the consumer before they ask (`after_sales_options`, in both languages) and how long a
ruling stays appealable: written for the mutants of cases/policy.py that survived (docs/mutation.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from cases.models import DeadlinePolicy, Holiday
from cases.policy import (
    ItemLedger,
    after_sales_options,
    appeal_due,
    appeal_window_seconds,
    claimable,
    deadline_seconds,
    due_time,
    holiday_intervals,
    money,
    reminder_time,
    units_value,
)
from tests import factories as f

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
SIGNED = datetime(2026, 11, 3, 23, 30, tzinfo=SH)  # day 1 is the 4th, day 7 the 10th

QUALITY = ["quality_issue", "not_as_described", "wrong_item", "missing_parts"]


def _refusals(no_reason: str, quality: str, damaged: str) -> list[dict[str, str]]:
    return ([{"reason": "no_reason", "code": "window_expired", "detail": no_reason}]
            + [{"reason": r, "code": "window_expired", "detail": quality} for r in QUALITY]
            + [{"reason": "damaged_in_transit", "code": "report_window_expired", "detail": damaged}])


@pytest.mark.parametrize(("language", "no_reason", "quality", "damaged", "not_shipped"), [
    ("zh-hans", "7 天无理由退货已于11月10日结束", "7 天售后期限已于11月10日结束", "运输破损须在签收后 48 小时内申报",
     "订单已发货，不能以“未发货”为由申请"),
    ("en", "The 7-day no-reason return period ended on Nov 10", "The 7-day after-sales period ended on Nov 10",
     "Transit damage must be reported within 48 hours of signing",
     "The order has already shipped, so “not shipped” does not apply"),
])
def test_the_options_after_day_7_name_every_kind_reason_and_the_last_day(consumer, shop, time_machine, language,
                                                                         no_reason, quality, damaged, not_shipped):
    time_machine.move_to(datetime(2026, 11, 12, 9, 0, tzinfo=SH), tick=False)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=SIGNED,
                                                   shipped_at=SIGNED - timedelta(days=1),
                                                   paid_at=SIGNED - timedelta(days=2)), quantity=1)
    with translation.override(language):
        options = [o.as_dict() for o in after_sales_options(item)]
    assert [o["kind"] for o in options] == ["refund_only", "return_refund", "exchange", "repair"]
    by_kind = {o["kind"]: o for o in options}
    assert by_kind["refund_only"] == {
        "kind": "refund_only", "open": ["not_received", "other"],
        "refused": _refusals(no_reason, quality, damaged)
        + [{"reason": "not_shipped", "code": "reason_not_applicable", "detail": not_shipped}]}
    assert by_kind["return_refund"] == {"kind": "return_refund", "open": ["other"],
                                        "refused": _refusals(no_reason, quality, damaged)}
    assert by_kind["exchange"] == {
        "kind": "exchange", "open": [*QUALITY, "other"],
        "refused": [{"reason": "no_reason", "code": "window_expired", "detail": no_reason},
                    {"reason": "damaged_in_transit", "code": "report_window_expired", "detail": damaged}]}
    assert by_kind["repair"] == {"kind": "repair", "open": [*QUALITY, "damaged_in_transit", "other"], "refused": []}


def test_a_ruling_is_appealable_for_three_days_paused_over_holidays(settings):
    settings.CASE_DEADLINES_SECONDS = {}
    ruled = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
    assert appeal_window_seconds() == 3 * 86400
    assert appeal_due(ruled) == ruled + timedelta(days=3)
    holiday = Holiday(name="h", start_date=date(2026, 11, 21), end_date=date(2026, 11, 22))
    assert appeal_due(ruled, [holiday]) == ruled + timedelta(days=5)


def test_the_appeal_window_follows_its_override(settings):
    settings.CASE_DEADLINES_SECONDS = {"appeal_window": "90"}
    ruled = datetime(2026, 11, 20, 10, 0, tzinfo=SH)
    assert appeal_window_seconds() == 90
    assert appeal_due(ruled) == ruled + timedelta(seconds=90)


def test_the_options_at_a_given_moment_assume_the_declaration_and_a_photo(consumer, shop, time_machine):
    """Asked for a moment inside day 7 (whatever the clock says), every reason is open: the intact-goods
    declaration and the photo are what the consumer supplies with the request, so they are assumed."""
    time_machine.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=SH), tick=False)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=SIGNED,
                                                   shipped_at=SIGNED - timedelta(days=1),
                                                   paid_at=SIGNED - timedelta(days=2)), quantity=1)
    options = {o.kind: o for o in after_sales_options(item, now=datetime(2026, 11, 4, 12, 0, tzinfo=SH))}
    assert options["return_refund"].open == ["no_reason", *QUALITY, "damaged_in_transit", "other"]
    assert options["return_refund"].refused == []


def test_money_rounds_half_up_and_the_last_units_take_the_remainder(consumer, shop):
    assert money("0.125") == Decimal("0.13") and money("0.135") == Decimal("0.14")
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=3, unit_price="1.00",
                              paid="1.00")
    assert units_value(item, 0, ItemLedger()) == Decimal("0.00")
    assert units_value(item, 1, ItemLedger()) == Decimal("0.33")
    assert units_value(item, 2, ItemLedger()) == Decimal("0.67")
    # two units claimed one at a time (0.33 each): the last one is what is left of what was paid
    assert units_value(item, 1, ItemLedger(units_used=2, units_value=Decimal("0.66"))) == Decimal("0.34")


def test_what_is_left_to_claim_after_earlier_refunds(consumer, shop):
    """The claim is the units' value less what was refunded on the item without units, and never more than
    what is left of what was paid on the item (a unit refunded above its value leaves less for the others)."""
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop), quantity=2, unit_price="100.00",
                              paid="200.00")
    assert claimable(item, 1, ItemLedger()) == Decimal("100.00")
    money_only = ItemLedger(refunded_total=Decimal("30.00"), money_only_refunded=Decimal("30.00"))
    assert claimable(item, 1, money_only) == Decimal("70.00")
    assert claimable(item, 2, money_only) == Decimal("170.00")
    # one unit refunded at 150 (its value is 100): 50 is left on the item for the other one
    over = ItemLedger(units_used=1, units_value=Decimal("100.00"), refunded_total=Decimal("150.00"))
    assert claimable(item, 1, over) == Decimal("50.00")
    assert claimable(item, 1, ItemLedger(units_used=2, units_value=Decimal("200.00"),
                                         refunded_total=Decimal("200.00"))) == Decimal("0.00")


def test_the_options_for_an_item_with_units_already_claimed_ask_for_what_is_left(consumer, shop, time_machine):
    time_machine.move_to(datetime(2026, 11, 5, 9, 0, tzinfo=SH), tick=False)
    item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop, signed_at=SIGNED,
                                                   shipped_at=SIGNED - timedelta(days=1),
                                                   paid_at=SIGNED - timedelta(days=2)), quantity=2)
    ledger = ItemLedger(units_used=1, units_value=Decimal("50.00"), refunded_total=Decimal("50.00"))
    options = {o.kind: o for o in after_sales_options(item, ledger=ledger)}
    assert options["return_refund"].open == ["no_reason", *QUALITY, "damaged_in_transit", "other"]
    assert options["return_refund"].refused == []


def test_the_policy_row_in_force_is_the_one_that_took_effect_last(settings):
    """Newest by `effective_from`, whatever order the rows were written in; of two taking effect at the same
    moment, the one written last."""
    settings.CASE_DEADLINES_SECONDS = {}
    start = datetime(2026, 11, 1, tzinfo=SH)
    DeadlinePolicy.objects.create(name="consumer_ship", seconds=1000, effective_from=start + timedelta(days=5))
    DeadlinePolicy.objects.create(name="consumer_ship", seconds=2000, effective_from=start)  # written later
    assert deadline_seconds("consumer_ship", at=start + timedelta(days=1)) == 2000
    assert deadline_seconds("consumer_ship", at=start + timedelta(days=6)) == 1000
    DeadlinePolicy.objects.create(name="evidence", seconds=3000, effective_from=start)
    DeadlinePolicy.objects.create(name="evidence", seconds=4000, effective_from=start)
    assert deadline_seconds("evidence", at=start + timedelta(days=1)) == 4000


def test_the_reminder_is_24_hours_before_due_or_at_half_a_window_of_48_hours_or_less():
    start = datetime(2026, 11, 20, 10, 0, tzinfo=SH)

    def reminder(seconds: int) -> timedelta:
        due = start + timedelta(seconds=seconds)
        return due - reminder_time(start, due, seconds)

    assert reminder(24 * 3600) == timedelta(hours=12)
    assert reminder(6 * 3600) == timedelta(hours=3)
    assert reminder(48 * 3600) == timedelta(hours=24)
    assert reminder(48 * 3600 + 10) == timedelta(hours=24)
    assert reminder(49 * 3600) == timedelta(hours=24)
    assert reminder(5 * 86400) == timedelta(hours=24)


def test_holidays_become_intervals_of_shanghai_days_overlaps_merged():
    def day(d: int) -> datetime:
        return datetime(2026, 10, d, tzinfo=SH)

    h = [Holiday(name="a", start_date=date(2026, 10, 1), end_date=date(2026, 10, 2)),
         Holiday(name="b", start_date=date(2026, 10, 5), end_date=date(2026, 10, 5)),
         Holiday(name="c", start_date=date(2026, 10, 8), end_date=date(2026, 10, 10)),
         Holiday(name="d", start_date=date(2026, 10, 9), end_date=date(2026, 10, 12)),
         Holiday(name="e", start_date=date(2026, 10, 13), end_date=date(2026, 10, 13))]
    assert holiday_intervals([h[1], h[0]]) == [(day(1), day(3)), (day(5), day(6))]
    # c and d overlap, e starts the day after d ends: one interval from the 8th to the end of the 13th
    assert holiday_intervals(h) == [(day(1), day(3)), (day(5), day(6)), (day(8), day(14))]


def test_a_clock_pauses_over_a_later_holiday_after_one_already_past_and_a_holiday_inside_another_is_absorbed():
    start = datetime(2026, 10, 4, 12, 0, tzinfo=SH)
    past = Holiday(name="past", start_date=date(2026, 10, 1), end_date=date(2026, 10, 2))
    later = Holiday(name="later", start_date=date(2026, 10, 5), end_date=date(2026, 10, 5))
    # 12 h to midnight, the 5th paused, 24 h more
    assert due_time(start, 36 * 3600, [past, later]) == datetime(2026, 10, 7, 0, 0, tzinfo=SH)
    # merged with the interval before it, a holiday inside a longer one keeps the longer one's end
    spans = [Holiday(name=n, start_date=date(2026, m, d1), end_date=date(2026, m, d2))
             for n, m, d1, d2 in (("x", 9, 20, 20), ("y", 9, 25, 25), ("long", 10, 1, 3), ("inside", 10, 2, 2))]
    assert holiday_intervals(spans) == [(datetime(2026, 9, 20, tzinfo=SH), datetime(2026, 9, 21, tzinfo=SH)),
                                        (datetime(2026, 9, 25, tzinfo=SH), datetime(2026, 9, 26, tzinfo=SH)),
                                        (datetime(2026, 10, 1, tzinfo=SH), datetime(2026, 10, 4, tzinfo=SH))]
