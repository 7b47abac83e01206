"""My orders: items with what after-sales is open now and, for the rest, the policy's own reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    response = client.get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_lists_own_orders_with_open_kinds_and_refusals(shopper, consumer, item):
    other = f.OrderFactory(consumer=f.ConsumerFactory(), shop=item.order.shop, number="T-NOT-MINE")
    f.OrderItemFactory(order=other)
    html = shopper.get("/orders/").content.decode()
    assert item.order.number in html and item.product.name in html
    assert "T-NOT-MINE" not in html
    assert f'/orders/items/{item.pk}/after-sales/new/' in html
    assert "可申请" in html
    # not_shipped on a shipped order is refused with the policy's own sentence
    assert "订单已发货，不能以“未发货”为由申请" in html


def test_excluded_category_explains_no_reason_refusal(shopper, consumer, shop):
    order = f.OrderFactory(consumer=consumer, shop=shop)
    fresh = f.OrderItemFactory(order=order, product=f.ProductFactory(shop=shop, category="fresh", name="阳澄湖大闸蟹"))
    html = shopper.get("/orders/").content.decode()
    block = html.split(f'id="item-{fresh.pk}"')[1]
    assert "该类商品（定制、生鲜、虚拟、报刊等）不支持七天无理由退换" in block
    assert 'data-code="category_excluded"' in block


def test_expired_window_and_no_warranty_are_explained(shopper, consumer, shop):
    order = f.OrderFactory(consumer=consumer, shop=shop, signed_at=timezone.now() - timedelta(days=40))
    f.OrderItemFactory(order=order, product=f.ProductFactory(shop=shop, warranty_days=0))
    html = shopper.get("/orders/").content.decode()
    assert "7 天无理由退货已于" in html
    assert "该商品不提供保修服务" in html
    return_block = html.split('data-kind="return_refund"')[1].split('data-kind="exchange"')[0]
    assert "不可申请" in return_block


def test_open_case_links_to_its_progress(shopper, item, make_case):
    case = make_case()
    html = shopper.get("/orders/").content.decode()
    assert f"/cases/{case.pk}/" in html and "查看售后进度" in html
    assert "该商品已有进行中的售后单" in html


def test_english_is_selectable(shopper, item):
    shopper.post("/i18n/setlang/", {"language": "en", "next": "/orders/"})
    html = shopper.get("/orders/").content.decode()
    assert "My orders" in html
    assert "Apply for after-sales" in html
    assert "has already shipped" in html  # the policy's refusal sentence, translated


def test_merchant_sees_an_empty_page_not_an_error(client, merchant):
    client.force_login(merchant)
    assert client.get("/orders/").status_code == 200


def _orders(consumer, shop, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        order = f.OrderFactory(consumer=consumer, shop=shop)
        f.OrderItemFactory(order=order)
        f.OrderItemFactory(order=order)


def _count(client, url):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_orders(shopper, consumer, shop, make_case, item, django_assert_max_num_queries):
    make_case()
    _orders(consumer, shop, 2)
    few = _count(shopper, "/orders/")
    _orders(consumer, shop, 27)
    with django_assert_max_num_queries(few):
        response = shopper.get("/orders/")
    assert len(response.context["rows"]) == 10  # paginated
    assert "?page=2" in response.content.decode()
    with django_assert_max_num_queries(few):
        shopper.get("/orders/?page=3")
