"""List and detail endpoints cost the same number of queries for 5 cases or 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from tests import factories as f

pytestmark = pytest.mark.django_db


def make_cases(consumer, shop, merchant, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for i in range(n):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="return_refund",
                                    reason="other", quantity=1)
        if i % 2:
            services.case_approve(case_id=case.pk, actor=merchant)
        ids.append(case.pk)
    return ids


def count_queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["consumer", "merchant", "agent"])
def test_list_queries_do_not_grow(api, consumer, merchant, shop, agent, who):
    user = {"consumer": consumer, "merchant": merchant, "agent": agent}[who]
    make_cases(consumer, shop, merchant, 5)
    client = api(user)
    small = count_queries(client, "/api/v1/cases/?page_size=100")
    make_cases(consumer, shop, merchant, 45)
    large = count_queries(client, "/api/v1/cases/?page_size=100")
    assert client.get("/api/v1/cases/?page_size=100").json()["count"] == 50
    assert large == small, (small, large)


def test_detail_queries_do_not_grow_with_events(api, consumer, merchant, shop):
    ids = make_cases(consumer, shop, merchant, 2)
    client = api(consumer)
    few = count_queries(client, f"/api/v1/cases/{ids[0]}/")
    many = count_queries(client, f"/api/v1/cases/{ids[1]}/")
    assert many == few


def test_orders_queries_do_not_grow(api, consumer, shop, merchant):
    for _ in range(3):
        f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    client = api(consumer)
    small = count_queries(client, "/api/v1/orders/?page_size=50")
    for _ in range(27):
        f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
    make_cases(consumer, shop, merchant, 3)
    large = count_queries(client, "/api/v1/orders/?page_size=50")
    assert large == small, (small, large)


@pytest.mark.parametrize("ordering", ["deadline", "-created_at"])
def test_deep_pages_read_ids_first_and_give_the_same_rows(api, consumer, merchant, shop, monkeypatch, ordering):
    """From DEFERRED_JOIN_OFFSET on, a page reads its ids alone and then their rows: same rows, same order."""
    from cases import selectors

    make_cases(consumer, shop, merchant, 7)
    client = api(merchant)

    def pages() -> list[list[int]]:
        return [[row["id"] for row in client.get(
            f"/api/v1/cases/?ordering={ordering}&page_size=3&page={n}").json()["results"]] for n in (1, 2, 3)]

    direct = pages()
    monkeypatch.setattr(selectors, "DEFERRED_JOIN_OFFSET", 1)
    deferred = pages()
    assert deferred == direct
    assert [len(p) for p in direct] == [3, 3, 1] and len({i for p in direct for i in p}) == 7
