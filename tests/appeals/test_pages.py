"""The pages where people take the new actions: consumer case page, merchant case page, staff review page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import AfterSalesCase
from tests.appeals.test_appeals import ruled

pytestmark = pytest.mark.django_db


def test_appeal_answer_and_decide_through_the_pages(client, consumer, merchant, agent, supervisor, item):
    case = ruled(consumer, merchant, agent, item)
    client.force_login(consumer)
    page = client.get(reverse("web:case", args=[case.pk]))
    assert page.status_code == 200 and reverse("web:case_action", args=[case.pk, "appeal"]) in page.content.decode()
    assert client.post(reverse("web:case_action", args=[case.pk, "appeal"]), {"statement": "金额太少"}).status_code == 302
    assert AfterSalesCase.objects.get(pk=case.pk).state == "under_appeal"

    client.force_login(merchant)
    page = client.get(reverse("merchant:case", args=[case.pk]))
    assert reverse("merchant:case-action", args=[case.pk, "answer_appeal"]) in page.content.decode()
    client.post(reverse("merchant:case-action", args=[case.pk, "answer_appeal"]), {"statement": "已发货"})
    assert AfterSalesCase.objects.get(pk=case.pk).appeal_ready

    review = reverse("admin:cases_aftersalescase_review", args=[case.pk])
    decide = reverse("admin:cases_aftersalescase_decide_appeal", args=[case.pk])
    client.force_login(agent)  # the staff member who ruled: no form, and a post is refused
    assert decide not in client.get(review).content.decode()
    client.post(decide, {"outcome": "uphold", "rationale": "x"})
    assert AfterSalesCase.objects.get(pk=case.pk).state == "under_appeal"
    client.force_login(supervisor)
    assert decide in client.get(review).content.decode()
    client.post(decide, {"outcome": "overturn", "rationale": "全额退款", "decision": "refund", "amount": "80.00"})
    case = AfterSalesCase.objects.get(pk=case.pk)
    assert case.state == "refunded" and case.refund.amount == 80


def test_intercept_from_the_consumer_page_and_every_page_shows_the_new_states(client, consumer, merchant, agent,
                                                                              supervisor, item, shop):
    from cases import services
    from tests import factories as f

    order = f.OrderFactory(consumer=consumer, shop=shop, signed_at=None, carrier="simulated", waybill="SIM-HOLD")
    parcel = f.OrderItemFactory(order=order, quantity=1, unit_price="60.00", paid="60.00")
    case = services.case_submit(consumer=consumer, order_item_id=parcel.pk, kind="refund_only",
                                reason="not_received", amount="60.00", quantity=1)
    appealed = ruled(consumer, merchant, agent, item)
    services.case_act(action="appeal", case_id=appealed.pk, actor=consumer, data={"statement": "申诉"})
    client.force_login(consumer)
    page = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert reverse("web:case_action", args=[case.pk, "intercept"]) in page
    assert client.post(reverse("web:case_action", args=[case.pk, "intercept"])).status_code == 302
    assert AfterSalesCase.objects.get(pk=case.pk).state == "intercepting"
    for user, urls in (
        (consumer, [reverse("web:cases"), reverse("web:case", args=[case.pk]),
                    reverse("web:case", args=[appealed.pk]), reverse("web:notifications")]),
        (merchant, [reverse("merchant:queue"), reverse("merchant:case", args=[case.pk]),
                    reverse("merchant:case", args=[appealed.pk])]),
        (supervisor, ["/admin/cases/aftersalescase/", reverse("admin:cases_aftersalescase_review", args=[case.pk]),
                      reverse("admin:cases_aftersalescase_review", args=[appealed.pk])]),
    ):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 200, url
