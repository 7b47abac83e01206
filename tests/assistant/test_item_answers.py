"""Answers about one order item come from cases.policy, the functions the request form uses."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone, translation

from cases import policy
from cases.policy import SHANGHAI
from tests import factories as f

ASK = "/api/v1/assistant/ask/"
pytestmark = pytest.mark.django_db


def make_item(consumer, shop, *, signed_days_ago=2, category="apparel", warranty_days=365, shipped=True,
              signed=True, name="陶瓷杯"):  # type: ignore[no-untyped-def]
    now = timezone.now()
    order = f.OrderFactory(consumer=consumer, shop=shop, paid_at=now - timedelta(days=signed_days_ago + 3),
                           shipped_at=(now - timedelta(days=signed_days_ago + 1)) if shipped else None,
                           signed_at=(now - timedelta(days=signed_days_ago)) if signed else None)
    product = f.ProductFactory(shop=shop, category=category, warranty_days=warranty_days, name=name)
    return f.OrderItemFactory(order=order, product=product)


def ask(api, user, question, item, **headers):  # type: ignore[no-untyped-def]
    response = api(user).post(ASK, {"question": question, "order_item": item.pk}, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def refusal_detail(item, kind, reason):  # type: ignore[no-untyped-def]
    with translation.override("zh-hans"):
        options = policy.after_sales_options(item)
    for option in options:
        for refused in option.refused:
            if option.kind == kind and refused["reason"] == reason:
                return refused["code"], refused["detail"]
    return None, None


def test_window_ended_says_so_in_the_policys_own_words_and_suggests_nothing_closed(api, consumer, shop):
    item = make_item(consumer, shop, signed_days_ago=10)
    code, detail = refusal_detail(item, "return_refund", "no_reason")
    assert code == "window_expired"
    data = ask(api, consumer, "不想要了，七天无理由退货", item)
    assert detail in data["answer"]
    assert data["suggestion"] is None and data["confidence"] == 0
    assert "item-eligibility" in [s["id"] for s in data["sources"]]


def test_excluded_category_is_explained_for_the_item(api, consumer, shop):
    item = make_item(consumer, shop, category="fresh", name="阳山水蜜桃")
    code, detail = refusal_detail(item, "return_refund", "no_reason")
    assert code == "category_excluded"
    data = ask(api, consumer, "生鲜能七天无理由吗", item)
    assert data["sources"][0]["id"] == "excluded-fresh"
    assert detail in data["answer"] and "阳山水蜜桃" in data["answer"]


def test_warranty_left_is_the_date_the_policy_ends_it(api, consumer, shop):
    item = make_item(consumer, shop, warranty_days=30)
    end = policy.window_end(item.order.signed_at, 30) - timedelta(minutes=1)
    local = timezone.localtime(end, SHANGHAI)
    data = ask(api, consumer, "还在保修期吗", item)
    assert f"保修到 {local.month}月{local.day}日 23:5" in data["answer"]
    english = ask(api, consumer, "is it still under warranty", item, HTTP_ACCEPT_LANGUAGE="en")
    assert f"{local:%b} {local.day}, 23:5" in english["answer"]


def test_no_warranty_is_the_policys_refusal(api, consumer, shop):
    item = make_item(consumer, shop, warranty_days=0)
    code, detail = refusal_detail(item, "repair", "quality_issue")
    assert code == "warranty_expired"
    data = ask(api, consumer, "还在保修期吗", item)
    assert detail in data["answer"]


def test_an_open_complaint_names_the_window_end_and_prefills_the_form(api, client, consumer, shop):
    item = make_item(consumer, shop, signed_days_ago=2)
    data = ask(api, consumer, "收到的杯子裂了", item)
    assert data["suggestion"] == {"kind": "return_refund", "reason": "quality_issue"}
    end = policy.window_end(item.order.signed_at, 7) - timedelta(minutes=1)
    assert f"{timezone.localtime(end, SHANGHAI).day}日 23:5" in data["answer"]
    url = data["apply_url"]
    query = parse_qs(urlparse(url).query)
    assert query == {"kind": ["return_refund"], "reason": ["quality_issue"], "description": ["收到的杯子裂了"]}
    client.force_login(consumer)
    page = client.get(url).content.decode()
    assert 'id="reason-quality_issue" value="quality_issue"' in page
    assert 'value="quality_issue" data-freight' in page and "checked" in page.split('id="reason-quality_issue"')[1][:200]
    assert "\n收到的杯子裂了</textarea>" in page
    assert "data-reason-hint" in page


def test_the_suggestion_keeps_to_what_the_item_allows(api, consumer, shop):
    item = make_item(consumer, shop, shipped=False, signed=False)
    data = ask(api, consumer, "等了十天还没发货", item)
    assert data["suggestion"] == {"kind": "refund_only", "reason": "not_shipped"}
    shipped = make_item(consumer, shop, signed=False)
    data = ask(api, consumer, "等了十天还没发货", shipped)
    assert data["suggestion"] is None  # shipped: `not_shipped` is closed, and says why
    _code, detail = refusal_detail(shipped, "refund_only", "not_shipped")
    assert detail in data["answer"]


@pytest.mark.parametrize(("kind", "reason"), [
    ("return_refund", "no_reason"), ("exchange", "quality_issue"), ("return_refund", "damaged_in_transit"),
    ("repair", "quality_issue"), ("refund_only", "not_received"),
])
def test_window_end_is_the_minute_check_eligibility_stops_allowing(consumer, shop, kind, reason):
    from cases.assistant import eligibility

    item = make_item(consumer, shop, signed_days_ago=1, warranty_days=90)
    facts = eligibility.item_facts(item, now=timezone.now())
    end = eligibility.open_until(item, kind, reason, facts)
    probe = policy.Request(kind=kind, reason=reason, quantity=1, amount=None, condition_intact=True,
                           evidence_count=1)

    def allowed(at):  # type: ignore[no-untyped-def]
        return policy.check_eligibility(item, probe, now=at, ledger=facts.ledger) is None

    if reason == "not_received":
        assert end is None  # shipped and signed: `not_received` is closed now, so no end either
        return
    assert allowed(end) and not allowed(end + timedelta(minutes=1))
