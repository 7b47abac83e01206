"""转人工: with an item to the shop (seen in the merchant desk), else to the platform's inbox (staff)."""

from __future__ import annotations

import pytest

from cases import services
from cases.assistant.models import Thread
from cases.models import Notification
from tests import factories as f

from .conftest import open_quality_case

HANDOFF = "/api/v1/assistant/handoff/"
pytestmark = pytest.mark.django_db


def test_handoff_with_an_item_opens_a_thread_with_the_shop_seen_in_the_merchant_desk(api, client, consumer,
                                                                                       merchant, item):
    api(consumer).post("/api/v1/assistant/ask/", {"question": "杯子能不能换个颜色", "order_item": item.pk},
                       format="json")
    response = api(consumer).post(HANDOFF, {"order_item": item.pk, "message": "想找人问问换颜色"}, format="json")
    assert response.status_code == 201
    data = response.json()
    assert (data["to"], data["shop"], data["order_item"]) == ("shop", item.order.shop.code, item.pk)
    assert data["transcript"][0]["question"] == "杯子能不能换个颜色"
    assert data["messages"][0]["body"] == "想找人问问换颜色"
    assert Notification.objects.filter(user=merchant, kind="assistant_handoff").exists()

    client.force_login(merchant)
    desk = client.get("/merchant/service/")
    assert desk.status_code == 200 and f'/merchant/service/{data["id"]}/' in desk.content.decode()
    page = client.post(f"/merchant/service/{data['id']}/", {"body": "您好，可以换颜色"})
    assert page.status_code == 302
    thread = api(consumer).get(f"/api/v1/assistant/threads/{data['id']}/messages/").json()
    assert [m["role"] for m in thread["messages"]] == ["consumer", "merchant"]
    assert Thread.objects.get().answered_at is not None


def test_another_shops_merchant_and_other_consumers_never_see_the_thread(api, client, consumer, item):
    thread_id = api(consumer).post(HANDOFF, {"order_item": item.pk, "message": "hi"}, format="json").json()["id"]
    outsider = f.MerchantFactory(username="eve")
    f.ShopFactory(code="other", members=[outsider])
    stranger = f.ConsumerFactory(username="mallory")
    for user in (outsider, stranger):
        client.force_login(user)
        assert client.get(f"/service/{thread_id}/").status_code == 404
        assert client.post(f"/service/{thread_id}/", {"body": "x"}).status_code == 404
        assert api(user).get(f"/api/v1/assistant/threads/{thread_id}/messages/").status_code == 404


def test_handoff_without_an_item_goes_to_the_platforms_inbox(api, client, consumer, merchant, agent):
    response = api(consumer).post(HANDOFF, {"message": "账号登录不了"}, format="json")
    assert response.status_code == 201
    assert (response.json()["to"], response.json()["shop"]) == ("platform", None)
    assert Notification.objects.filter(user=agent, kind="assistant_handoff").exists()
    client.force_login(agent)
    inbox = client.get("/service/?to=platform").content.decode()
    assert f'/service/{response.json()["id"]}/' in inbox
    assert api(merchant).get("/api/v1/assistant/threads/").json()["results"] == []


def test_once_the_platform_intervenes_the_item_goes_to_the_platform(api, consumer, merchant, agent, item):
    case = open_quality_case(item, consumer)
    services.case_reject(case_id=case.pk, actor=merchant, reason="不同意")
    services.case_escalate(case_id=case.pk, actor=consumer, statement="杯子确实是裂的")
    data = api(consumer).post(HANDOFF, {"order_item": item.pk, "message": "平台多久处理"}, format="json").json()
    assert data["to"] == "platform" and data["order_item"] == item.pk


def test_handoff_needs_something_to_say_and_ones_own_item(api, consumer, item):
    assert api(consumer).post(HANDOFF, {}, format="json").json()["code"] == "required"
    stranger = f.ConsumerFactory(username="mallory")
    response = api(stranger).post(HANDOFF, {"order_item": item.pk, "message": "x"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_your_order"


def test_a_second_handoff_the_same_day_continues_the_thread(api, consumer, item):
    first = api(consumer).post(HANDOFF, {"order_item": item.pk, "message": "一"}, format="json").json()
    second = api(consumer).post(HANDOFF, {"order_item": item.pk, "message": "二"}, format="json").json()
    assert first["id"] == second["id"]
    assert [m["body"] for m in second["messages"]] == ["一", "二"]
