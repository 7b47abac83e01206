"""Shop metrics against hand-computed values on a fixed data set (dates in Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from cases.merchant.selectors import Period, median, percentile_nearest_rank, shop_metrics
from cases.models import AfterSalesCase, CaseEvent, Refund
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")
PERIOD = Period(date(2026, 3, 1), date(2026, 3, 2))


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SH)


def test_median_and_nearest_rank_percentile():
    assert median([]) is None and percentile_nearest_rank([], 90) is None
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert percentile_nearest_rank(list(range(1, 11)), 90) == 9  # rank ceil(9.0) = 9
    assert percentile_nearest_rank(list(range(1, 12)), 90) == 10  # rank ceil(9.9) = 10
    assert percentile_nearest_rank([7], 90) == 7
    assert percentile_nearest_rank([10, 20], 90) == 20  # rank ceil(1.8) = 2
    assert percentile_nearest_rank([1, 2, 3, 4, 5], 50) == 3


@pytest.fixture
def dataset(db, shop, consumer):  # type: ignore[no-untyped-def]
    """Shop acme: 3 orders paid in the period (200.00 in all), one before it; six cases, four in the period."""

    def order(number: str, paid_at: datetime, *paid: str, shop_=shop):  # type: ignore[no-untyped-def]
        o = f.OrderFactory(number=number, consumer=consumer, shop=shop_, paid_at=paid_at, shipped_at=paid_at,
                           signed_at=paid_at)
        return [f.OrderItemFactory(order=o, position=i, paid=Decimal(p), unit_price=Decimal(p))
                for i, p in enumerate(paid)]

    (i1,) = order("O1", at(1, 9), "100.00")
    (i2,) = order("O2", at(1, 20), "50.00")
    i3, _i3b = order("O3", at(2, 23, 59, 59), "30.00", "20.00")
    (i4,) = order("O4", at(28, 23, 59, 59, month=2), "1000.00")  # paid the day before the period

    def case(number: str, item, kind: str, reason: str, created: datetime, **extra):  # type: ignore[no-untyped-def]
        return AfterSalesCase.objects.create(number=number, order_item=item, consumer=consumer, shop=shop,
                                             kind=kind, reason=reason, created_at=created, **extra)

    c1 = case("C1", i1, "refund_only", "no_reason", at(1, 10), first_response_at=at(1, 11))  # 3,600 s
    c2 = case("C2", i2, "return_refund", "quality_issue", at(1, 23, 30), first_response_at=at(2, 1, 30))  # 7,200 s
    # 07:00 in Shanghai is still 1 March in UTC: the daily trend must count it on 2 March.
    c3 = case("C3", i3, "exchange", "no_reason", at(2, 7), first_response_at=at(2, 17), escalated=True)  # 36,000 s
    c4 = case("C4", i4, "refund_only", "other", at(2, 12), auto_approved=True, escalated=True)
    case("C5", i1, "refund_only", "no_reason", at(3, 0), first_response_at=at(3, 0, 0, 10))  # after the period
    case("C6", i2, "repair", "other", at(28, 23, 59, 59, month=2), escalated=True)  # before it

    def refund(c, amount: str, created: datetime) -> None:  # type: ignore[no-untyped-def]
        Refund.objects.create(case=c, amount=Decimal(amount), idempotency_key=f"k-{c.number}", created_at=created)

    refund(c1, "40.00", at(1, 12))
    refund(c2, "50.00", at(2, 9))
    refund(c4, "100.00", at(2, 13))  # on an order paid before the period: not in the refund rate

    def rule(c, decision: str, when: datetime) -> None:  # type: ignore[no-untyped-def]
        CaseEvent.objects.create(case=c, role="staff", action="rule", from_state="awaiting_ruling",
                                 to_state="refunded" if decision == "refund" else "closed",
                                 payload={"decision": decision, "rationale": "r"}, at=when)

    rule(c3, "refund", at(2, 20))
    rule(c4, "reject", at(2, 21))
    rule(c1, "refund", at(3, 9))  # after the period
    other = f.ShopFactory(code="elsewhere")
    (oi,) = order("X1", at(1, 9), "10.00", shop_=other)
    foreign = AfterSalesCase.objects.create(number="X1C", order_item=oi, consumer=consumer, shop=other,
                                            kind="refund_only", reason="other", created_at=at(1, 9))
    rule(foreign, "refund", at(1, 10))
    return shop


def test_shop_metrics_match_hand_computed_values(dataset):
    m = shop_metrics(dataset, PERIOD)
    assert m.cases == 4
    assert m.by_kind == {"refund_only": 2, "return_refund": 1, "exchange": 1, "repair": 0}
    assert m.by_reason == {"no_reason": 2, "quality_issue": 1, "other": 1}
    assert m.responded == 3
    assert m.response_median_s == 7200
    assert m.response_p90_s == 36000  # rank ceil(0.9 × 3) = 3
    assert m.auto_approved == 1 and m.auto_approved_share == Decimal("0.2500")
    assert m.orders == 3 and m.paid_amount == Decimal("200.00")
    assert m.refund_amount == Decimal("90.00") and m.refund_rate == Decimal("0.4500")
    assert m.escalated == 2  # 纠纷率 itself is the scorecard's (cases/scorecard.py), one definition
    assert m.rulings == 2 and m.rulings_against == 1 and m.rulings_against_share == Decimal("0.5000")
    assert m.cases_per_day == [(date(2026, 3, 1), 2), (date(2026, 3, 2), 2)]
    assert m.refunds_per_day == [(date(2026, 3, 1), Decimal("40.00")), (date(2026, 3, 2), Decimal("150.00"))]


def test_empty_period_has_no_rates(dataset):
    m = shop_metrics(dataset, Period(date(2025, 1, 1), date(2025, 1, 3)))
    assert m.cases == 0 and m.response_median_s is None and m.response_p90_s is None
    assert m.refund_rate is None and m.rulings_against_share is None
    assert [n for _d, n in m.cases_per_day] == [0, 0, 0]


def test_metrics_page_numbers_and_svg(merchant_client, dataset):
    response = merchant_client.get(reverse("merchant:metrics"), {"from": "2026-03-01", "to": "2026-03-02"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="cases">4<' in html
    assert 'data-kpi="refund-rate">45.0%<' in html
    assert 'data-kpi="escalated">2<' in html and 'data-testid="scorecard"' in html
    assert 'data-kpi="against">50.0%<' in html
    assert 'data-kpi="median">2 小时 0 分<' in html
    assert 'data-kpi="p90">10 小时 0 分<' in html
    assert html.count("<svg") >= 4 and "<rect" in html


@pytest.mark.parametrize("params", [{"from": "garbage", "to": "2026-99-99"}, {"from": "2026-03-05", "to": "2026-03-01"},
                                    {"from": "1900-01-01", "to": "2026-03-01"}])
def test_metrics_period_input_never_errors(merchant_client, dataset, params):
    response = merchant_client.get(reverse("merchant:metrics"), params)
    assert response.status_code == 200
    period = response.context["period"]
    assert period.start <= period.end and (period.end - period.start).days < 366
