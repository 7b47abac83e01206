"""GET /api/v1/cases/{id}/reply-suggestions/: the shop's members only, at most 3, ranked for the case."""

from __future__ import annotations

import pytest

from cases.merchant.models import ReplyTemplate
from tests import factories as f

from .conftest import open_quality_case

pytestmark = pytest.mark.django_db


def url(case) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/cases/{case.pk}/reply-suggestions/"


def test_members_get_at_most_three_ranked_for_the_case_with_the_shops_own_template_first(api, consumer,
                                                                                           merchant, item):
    case = open_quality_case(item, consumer, description="杯子收到就有裂纹，质量问题")
    fitting = ReplyTemplate.objects.create(shop=case.shop, title="质量问题退货",
                                           body="抱歉！质量问题退货运费由我们承担，请寄回。")
    ReplyTemplate.objects.create(shop=case.shop, title="催发货", body="我们会尽快为您安排发货。")
    response = api(merchant).get(url(case))
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    assert 1 <= len(suggestions) <= 3
    assert all(set(s) == {"text", "source"} and s["text"] for s in suggestions)
    assert suggestions[0]["source"] == f"template:{fitting.pk}"
    assert any(s["source"] == "knowledge:merchant-sorry-quality" for s in suggestions)
    assert not any("发货" in s["text"] and s["source"].startswith("template") for s in suggestions)


def test_suggestions_follow_the_readers_language(api, consumer, merchant, item):
    case = open_quality_case(item, consumer)
    data = api(merchant).get(url(case), HTTP_ACCEPT_LANGUAGE="en").json()
    assert any("sorry" in s["text"].lower() for s in data["suggestions"])


def test_only_the_shops_members(api, consumer, agent, item):
    case = open_quality_case(item, consumer)
    assert api(consumer).get(url(case)).status_code == 403
    assert api(agent).get(url(case)).status_code == 403
    outsider = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[outsider])
    assert api(outsider).get(url(case)).status_code == 404
    assert api().get(url(case)).status_code == 401


def test_the_merchant_case_page_shows_them_beside_the_reply_box(client, consumer, merchant, item):
    case = open_quality_case(item, consumer)
    client.force_login(merchant)
    page = client.get(f"/merchant/cases/{case.pk}/").content.decode()
    assert 'data-testid="reply-suggestions"' in page
    assert page.index('data-testid="reply-suggestions"') < page.index('id="reply-body"')


def test_no_request_for_photos_the_reason_does_not_need_and_no_reason_entries_lead(api, consumer, merchant, item):
    from cases import services

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund", reason="no_reason",
                                description="不想要了", condition_intact=True)
    sources = [s["source"] for s in api(merchant).get(url(case)).json()["suggestions"]]
    assert "knowledge:merchant-ask-photos" not in sources
    assert sources[0] == "knowledge:merchant-no-reason-condition"
