"""Issue #18, the scorecard: every figure of api.md on the fixed data set of tests/quality/dataset.py, with the
expected numbers worked by hand below; the API's access rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cases.scorecard import Counts, p90_hours, rate, shop_categories, shop_scorecard
from tests import factories as f
from tests.quality import dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    return dataset.build()


def test_acme_figures_worked_by_hand(world):
    card = shop_scorecard(world["acme"], now=dataset.NOW).as_json()
    assert card["from"] == "2026-11-02T12:00:00+08:00" and card["to"] == "2026-12-02T12:00:00+08:00"
    # items paid in the window: 2 + 3 + 5 = 10 (the order of 10-20 is outside)
    # ruled `refund` in the window: c2 (11-15), c4 (11-25); c7 was ruled `reject`, c6's ruling is outside → 2 / 10
    assert card["dispute_rate"] == "0.2000"
    # escalated or intervened in the window: c2, c4 (intervened 11-03, opened before), c7 → 3;
    # opened in the window: c1, c2, c3, c5, c7 → 5; 3 / 5
    assert card["intervention_rate"] == "0.6000"
    # refunds paid in the window on a quality reason: c1, c2, c4 → 3 / 10
    assert card["quality_refund_rate"] == "0.3000"
    # submission → paid: c1 4 h, c2 5 d 10 h = 130 h, c4 31 d 1 h = 745 h; mean 879 / 3 = 293.0;
    # p90 by nearest rank: rank ⌈0.9 × 3⌉ = 3 → 745.0
    assert card["refund_hours"] == {"mean": "293.0", "p90": "745.0"}
    # first response over cases opened in the window: c1 2 h (approve), c2 6 h (the message before the reject),
    # c5 1 h; c3 has only the system's move and c7 no merchant move → (2 + 6 + 1) / 3 = 3.0
    assert card["first_response_hours"] == "3.0"
    # terminal in the window: c1, c2, c4, c5, c7 → 5; without the platform: c1, c5 → 2 / 5
    assert card["self_resolved_rate"] == "0.4000"
    # ratings in the window: 5, 4, 2 (c6's of 10-06 is outside) → 11 / 3 = 3.67
    assert card["rating"] == {"mean": "3.67", "count": 3}
    assert card["category"] == "apparel" and card["held_to_thresholds"] is False


def test_category_average_pools_the_shops_of_the_majority_category(world):
    assert shop_categories() == {world["acme"].pk: "apparel", world["peer"].pk: "apparel",
                                 world["elec"].pk: "electronics"}
    average = shop_scorecard(world["acme"], now=dataset.NOW).as_json()["category_average"]
    # acme + peer (elec is electronics): items 10 + 5 = 15; ruled refund 2 + 1 = 3 → 3 / 15
    assert average["dispute_rate"] == "0.2000"
    # escalated or intervened 3 + 1 = 4; opened 5 + 1 = 6 → 0.6667
    assert average["intervention_rate"] == "0.6667"
    # quality refunds 3 + 1 = 4 → 4 / 15 = 0.26666… → 0.2667
    assert average["quality_refund_rate"] == "0.2667"
    # durations 4, 130, 745 and peer's 74 h (11-15 10:00 → 11-18 12:00): mean 953 / 4 = 238.25 → 238.3 (half up);
    # p90 rank ⌈3.6⌉ = 4 of [4, 74, 130, 745] → 745.0
    assert average["refund_hours"] == {"mean": "238.3", "p90": "745.0"}
    # responses 2, 6, 1 and peer's 4 h → 13 / 4 = 3.25 → 3.3
    assert average["first_response_hours"] == "3.3"
    # terminal 5 + 1 = 6, without the platform 2 + 0 → 0.3333
    assert average["self_resolved_rate"] == "0.3333"


def test_empty_denominators_are_null(world):
    lonely = f.ShopFactory(code="lonely")
    card = shop_scorecard(lonely, now=dataset.NOW).as_json()
    assert card["dispute_rate"] is None and card["intervention_rate"] is None
    assert card["refund_hours"] == {"mean": None, "p90": None} and card["first_response_hours"] is None
    assert card["self_resolved_rate"] is None and card["rating"] == {"mean": None, "count": 0}
    assert card["category"] is None and card["category_average"]["dispute_rate"] is None


def test_rounding_and_nearest_rank():
    assert rate(1, 3) == Decimal("0.3333") and rate(2, 3) == Decimal("0.6667") and rate(0, 0) is None
    assert rate(5, 4) == Decimal("1.0000")  # rates stay in [0, 1]
    hours = [h * 3600 for h in range(1, 11)]  # 1..10 h: rank ⌈9⌉ = 9 → 9.0; of 11 values rank ⌈9.9⌉ = 10
    assert p90_hours(hours) == Decimal("9.0") and p90_hours([*hours, 11 * 3600]) == Decimal("10.0")
    assert Counts.of_durations(response_seconds=[3600 * 0.25, 3600 * 0.3]).first_response_hours == Decimal("0.3")


def test_api_members_and_staff_only(api, world):
    acme = world["acme"]
    r = api(world["merchant"]).get("/api/v1/shops/acme/scorecard/")
    assert r.status_code == 200
    body = r.json()
    for key in ("shop", "from", "to", "dispute_rate", "intervention_rate", "quality_refund_rate", "refund_hours",
                "first_response_hours", "self_resolved_rate", "rating", "category_average"):
        assert key in body
    assert body["shop"] == "acme"
    for key in ("dispute_rate", "intervention_rate", "quality_refund_rate", "refund_hours", "first_response_hours",
                "self_resolved_rate"):
        assert key in body["category_average"]
    assert api(f.make_staff("carol")).get("/api/v1/shops/acme/scorecard/").status_code == 200
    stranger = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[stranger])
    for user in (stranger, world["consumer"]):
        r = api(user).get(f"/api/v1/shops/{acme.code}/scorecard/")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert api(world["merchant"]).get("/api/v1/shops/nope/scorecard/").status_code == 404
    assert api(None).get("/api/v1/shops/acme/scorecard/").status_code == 401


def test_the_same_figure_on_the_api_the_merchant_page_and_the_staff_pages(api, client, world):
    import time_machine

    agent = f.make_staff("carol")
    with time_machine.travel(dataset.NOW, tick=False):
        card = api(world["merchant"]).get("/api/v1/shops/acme/scorecard/").json()
        assert card["dispute_rate"] == "0.2000"
        client.force_login(world["merchant"])
        merchant_page = client.get("/merchant/metrics/").content.decode()
        client.force_login(agent)
        dashboard = client.get("/admin/cases/aftersalescase/dashboard/").content.decode()
        shop_page = client.get("/admin/cases/aftersalescase/shop/acme/").content.decode()
    shown = '<td class="sh-num num" data-figure="dispute_rate">20.00%</td>'
    assert shown in merchant_page and shown in shop_page
    assert '<td class="sh-num" data-figure="dispute_rate"><strong>20.00%</strong></td>' in dashboard
    assert merchant_page.count("data-trend=") == 7 and merchant_page.count("<summary class=\"small\">") >= 7
    # the average beside it is the category's pooled figure
    assert '<td class="sh-num num" data-average="dispute_rate">20.00%</td>' in merchant_page
    assert '<td class="sh-num num" data-figure="intervention_rate">60.00%</td>' in merchant_page


def test_a_merchant_message_is_a_first_response_and_only_the_first_counts(api, consumer, merchant, item):
    """first_response_at (the scorecard's 首次响应) is the merchant's first action or message: a consumer's
    message changes nothing, the merchant's first message sets it, a later action or message keeps it."""
    from cases import services
    from cases.models import AfterSalesCase

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only", reason="other",
                                quantity=1, amount="10.00")
    url = f"/api/v1/cases/{case.pk}/messages/"
    assert api(consumer).post(url, {"body": "请尽快处理"}, format="json").status_code == 201
    assert AfterSalesCase.objects.get(pk=case.pk).first_response_at is None
    assert api(merchant).post(url, {"body": "您好，马上处理"}, format="json").status_code == 201
    first = AfterSalesCase.objects.get(pk=case.pk).first_response_at
    from cases.models import CaseMessage

    assert first == CaseMessage.objects.filter(case=case, role="merchant").get().created_at
    api(merchant).post(url, {"body": "已处理"}, format="json")
    services.case_approve(case_id=case.pk, actor=merchant)
    assert AfterSalesCase.objects.get(pk=case.pk).first_response_at == first
