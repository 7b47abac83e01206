"""The arbitration queue and the review page: what an arbiter sees."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AfterSalesCase
from tests import factories as f
from tests.staff.helpers import disputed_case

pytestmark = pytest.mark.django_db


def test_queue_shows_arbitration_cases_overdue_first(client_for, agent, consumer, merchant, shop, dispute):
    order = f.OrderFactory(consumer=consumer, shop=shop)
    other_item = f.OrderItemFactory(order=order, quantity=1, paid="50.00")
    late = disputed_case(consumer, merchant, other_item, amount="50.00", close_evidence_by=agent)
    AfterSalesCase.objects.filter(pk=late.pk).update(overdue=True)
    untouched_item = f.OrderItemFactory(order=order, quantity=1, paid="30.00")
    from cases import services

    pending = services.case_submit(consumer=consumer, order_item_id=untouched_item.pk, kind="refund_only",
                                   reason="other", quantity=1, amount="30.00")
    response = client_for(agent).get(reverse("admin:cases_aftersalescase_changelist"))
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [c.pk for c in rows] == [late.pk, dispute.pk]  # overdue first; the pending case is not in the queue
    counts = response.context["counts"]
    assert (counts.in_arbitration, counts.awaiting_ruling, counts.overdue, counts.unassigned) == (1, 1, 1, 2)
    all_cases = client_for(agent).get(reverse("admin:cases_aftersalescase_changelist") + "?state=all")
    assert pending.pk in [c.pk for c in all_cases.context["cl"].result_list]
    only_pending = client_for(agent).get(reverse("admin:cases_aftersalescase_changelist") + "?state=pending_merchant")
    assert [c.pk for c in only_pending.context["cl"].result_list] == [pending.pk]


@pytest.mark.parametrize("query, expected", [
    ("amount_range=lt100", True), ("amount_range=100-500", False), ("kind__exact=refund_only", True),
    ("reason__exact=no_reason", False), ("overdue=yes", False), ("assignee=none", True), ("assignee=me", False),
])
def test_queue_filters(client_for, agent, dispute, query, expected):
    response = client_for(agent).get(reverse("admin:cases_aftersalescase_changelist") + "?" + query)
    assert response.status_code == 200
    assert (dispute.pk in [c.pk for c in response.context["cl"].result_list]) is expected


def test_queue_query_count_does_not_grow(client_for, agent, consumer, merchant, shop, django_assert_max_num_queries):
    for i in range(6):
        order = f.OrderFactory(consumer=consumer, shop=shop)
        disputed_case(consumer, merchant, f.OrderItemFactory(order=order, quantity=1, paid=f"{60 + i}.00"),
                      amount=f"{60 + i}.00")
    client = client_for(agent)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("admin:cases_aftersalescase_changelist"))
    assert len(response.context["cl"].result_list) == 6


def test_review_page_shows_both_sides(client_for, agent, dispute):
    response = client_for(agent).get(reverse("admin:cases_aftersalescase_review", args=[dispute.pk]))
    assert response.status_code == 200
    review = response.context["review"]
    assert [s.text for s in review.consumer_statements] == ["收到时屏幕有裂痕，开机花屏", "商家拒绝承认质量问题，请平台判定"]
    assert [s.text for s in review.merchant_statements] == ["出厂检测正常，属于人为损坏"]
    assert len(review.consumer_evidence) == 1 and len(review.merchant_evidence) == 1
    html = response.content.decode()
    for evidence in (*review.consumer_evidence, *review.merchant_evidence):
        assert f"/api/v1/evidence/{evidence.pk}/file/" in html
    assert str(review.claimable) == "94.00"
    assert any("94.00" in text for _label, text in review.rule)
    assert review.history.dispute_count == 1
    # the evidence image loads for the staff session
    image = client_for(agent).get(f"/api/v1/evidence/{review.merchant_evidence[0].pk}/file/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_change_view_redirects_to_review(client_for, agent, dispute):
    response = client_for(agent).get(reverse("admin:cases_aftersalescase_change", args=[dispute.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_aftersalescase_review", args=[dispute.pk])


def test_non_staff_cannot_open_the_workspace(client_for, consumer, merchant, dispute):
    for user in (consumer, merchant):
        response = client_for(user).get(reverse("admin:cases_aftersalescase_review", args=[dispute.pk]))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_case_is_404(client_for, agent):
    assert client_for(agent).get(reverse("admin:cases_aftersalescase_review", args=[999999])).status_code == 404


def test_dashboard_and_shop_page(client_for, supervisor, dispute, shop):
    response = client_for(supervisor).get(reverse("admin:cases_dashboard"))
    assert response.status_code == 200
    d = response.context["d"]
    assert dict((code, n) for code, _label, n in d.by_state)["in_arbitration"] == 1
    assert [s.code for s in d.top_shops] == ["acme"]  # the scorecard's counts (cases/scorecard.py)
    assert d.top_shops[0].counts.intervened == 1 and d.top_shops[0].counts.items_paid == 1
    assert len(d.auto_approvals) == 14
    page = client_for(supervisor).get(reverse("admin:cases_shop", args=["acme"]))
    assert page.status_code == 200
    assert page.context["o"].disputes == 1 and page.context["o"].history.outcomes["open"] == 1


def test_admin_index_and_lists_render(client_for, supervisor, dispute):
    client = client_for(supervisor)
    for name in ["admin:index", "admin:cases_caseevent_changelist", "admin:cases_refund_changelist",
                 "admin:cases_caseevidence_changelist", "admin:cases_casemessage_changelist",
                 "admin:cases_deadline_changelist", "admin:cases_holiday_changelist",
                 "admin:cases_deadlinepolicy_changelist", "admin:cases_deadlinepolicy_add",
                 "admin:portal_user_changelist", "admin:portal_shop_changelist", "admin:portal_product_changelist",
                 "admin:portal_order_changelist", "admin:portal_region_changelist", "admin:portal_wallet_changelist",
                 "admin:portal_apitoken_changelist", "admin:cases_holiday_add"]:
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("admin:portal_order_change", args=[dispute.order_item.order_id])).status_code == 200


def test_workspace_speaks_english_when_asked(client_for, agent, dispute):
    client = client_for(agent)
    response = client.get(reverse("admin:cases_aftersalescase_review", args=[dispute.pk]),
                          HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Statements and evidence" in html and "Applicable rule" in html
    queue = client.get(reverse("admin:cases_aftersalescase_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Arbitration queue" in queue.content.decode()


def test_review_page_query_count_is_fixed(client_for, agent, dispute, django_assert_max_num_queries):
    client = client_for(agent)
    client.get(reverse("admin:cases_aftersalescase_review", args=[dispute.pk]))  # warm the session
    with django_assert_max_num_queries(30):
        assert client.get(reverse("admin:cases_aftersalescase_review", args=[dispute.pk])).status_code == 200


@pytest.mark.parametrize("query", ["state=nonsense", "amount_range=x", "assignee=abc", "shop__id__exact=abc",
                                   "overdue=maybe", "o=99", "q=%00"])
def test_odd_queue_parameters_never_500(client_for, agent, dispute, query):
    response = client_for(agent).get(reverse("admin:cases_aftersalescase_changelist") + "?" + query)
    assert response.status_code in (200, 302)


def test_bad_ruling_input_is_a_form_error(client_for, agent, dispute):
    client = client_for(agent)
    for body in ({"decision": "refund", "amount": "abc", "rationale": "x"}, {"decision": "maybe", "rationale": "x"},
                 {"decision": "refund", "amount": "1e999", "rationale": "x"}, {}):
        response = client.post(reverse("admin:cases_aftersalescase_rule", args=[dispute.pk]), body)
        assert response.status_code == 400
    assert client.get(reverse("admin:cases_shop", args=["nope"])).status_code == 404
    dispute.refresh_from_db()
    assert dispute.state == "in_arbitration"
