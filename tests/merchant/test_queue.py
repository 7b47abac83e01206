"""The queue: urgency order, filters, search, per-state counts, shop switching, bounded queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.merchant.selectors import QueueFilters, queue_cases, queue_state_counts, urgency
from cases.models import AfterSalesCase
from tests import factories as f

URL = reverse("merchant:queue")


def _rows(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [case.number for case, _party in response.context["rows"]]


def _set_due(case: AfterSalesCase, hours: float) -> None:
    AfterSalesCase.objects.filter(pk=case.pk).update(deadline_due_at=timezone.now() + timedelta(hours=hours))


def test_most_urgent_deadline_first_with_party_and_urgency(merchant_client, make_case):
    relaxed, urgent, middling = make_case(), make_case(), make_case()
    _set_due(relaxed, 60)
    _set_due(urgent, 3)
    _set_due(middling, 20)
    response = merchant_client.get(URL)
    assert response.status_code == 200
    assert _rows(response) == [urgent.number, middling.number, relaxed.number]
    assert [party for _c, party in response.context["rows"]] == ["merchant"] * 3
    html = response.content.decode()
    assert f'class="urgency-red" data-case="{urgent.number}"' in html
    assert f'class="urgency-amber" data-case="{middling.number}"' in html
    assert f'class="urgency-ok" data-case="{relaxed.number}"' in html


def test_urgency_thresholds():
    now = timezone.now()
    assert urgency(now + timedelta(hours=5, minutes=59), now) == "red"
    assert urgency(now - timedelta(hours=1), now) == "red"
    assert urgency(now + timedelta(hours=6), now) == "amber"
    assert urgency(now + timedelta(hours=23, minutes=59), now) == "amber"
    assert urgency(now + timedelta(hours=24), now) == "ok"
    assert urgency(None, now) == "none"


def test_sorts_by_amount_and_creation(merchant_client, make_case):
    cheap = make_case(paid="10.00")
    dear = make_case(paid="300.00")
    mid = make_case(paid="50.00")
    assert _rows(merchant_client.get(URL, {"sort": "-amount"})) == [dear.number, mid.number, cheap.number]
    assert _rows(merchant_client.get(URL, {"sort": "amount"})) == [cheap.number, mid.number, dear.number]
    assert _rows(merchant_client.get(URL, {"sort": "-created"}))[0] == mid.number
    assert _rows(merchant_client.get(URL, {"sort": "nonsense"})) == _rows(merchant_client.get(URL))


def test_filters_and_state_counts(merchant_client, make_case, merchant, returned_case):
    refund = make_case(kind="refund_only")
    exchange = make_case(kind="exchange")
    quality = make_case(kind="return_refund", reason="quality_issue", photo=True)
    in_transit = returned_case()
    done = make_case()
    services.case_approve(case_id=done.pk, actor=merchant)  # refunded: not in the queue any more

    response = merchant_client.get(URL)
    assert set(_rows(response)) == {refund.number, exchange.number, quality.number, in_transit.number}
    counts = dict(response.context["counts"])
    assert counts["pending_merchant"] == 3 and counts["return_in_transit"] == 1
    assert "refunded" not in counts

    assert _rows(merchant_client.get(URL, {"state": "return_in_transit"})) == [in_transit.number]
    assert _rows(merchant_client.get(URL, {"kind": "exchange"})) == [exchange.number]
    assert _rows(merchant_client.get(URL, {"reason": "quality_issue"})) == [quality.number]
    # counts follow the other filters, not the state tab
    kind_counts = dict(merchant_client.get(URL, {"kind": "return_refund", "state": "pending_merchant"})
                       .context["counts"])
    assert kind_counts["pending_merchant"] == 1 and kind_counts["return_in_transit"] == 1


def test_overdue_and_escalated_filters(merchant_client, make_case):
    late, fine = make_case(), make_case()
    _set_due(late, -2)
    _set_due(fine, 30)
    AfterSalesCase.objects.filter(pk=fine.pk).update(escalated=True)
    assert _rows(merchant_client.get(URL, {"overdue": "1"})) == [late.number]
    assert _rows(merchant_client.get(URL, {"escalated": "on"})) == [fine.number]


def test_search_by_case_order_or_username(merchant_client, make_case, shop):
    mine = make_case(order_number="T-SEARCH-1")
    other_consumer = f.ConsumerFactory(username="frank")
    franks = make_case(consumer_=other_consumer)
    assert _rows(merchant_client.get(URL, {"q": mine.number})) == [mine.number]
    assert _rows(merchant_client.get(URL, {"q": "t-search-1"})) == [mine.number]
    assert _rows(merchant_client.get(URL, {"q": "frank"})) == [franks.number]
    assert _rows(merchant_client.get(URL, {"q": "nobody"})) == []


def test_shop_switch_and_all_shops(client, make_case, merchant, shop, consumer):
    second = f.ShopFactory(code="acme-outlet", name="ACME 奥莱店", members=[merchant])
    foreign = f.ShopFactory(code="foreign")
    a = make_case()
    b = make_case(shop_=second)
    make_case(shop_=foreign)
    client.force_login(merchant)
    assert set(_rows(client.get(URL))) == {a.number, b.number}
    assert _rows(client.get(URL, {"shop": "acme-outlet"})) == [b.number]
    assert _rows(client.get(URL, {"shop": "acme"})) == [a.number]
    assert client.get(URL, {"shop": "foreign"}).status_code == 404
    assert client.get(URL, {"shop": "nope"}).status_code == 404


def test_pagination_uses_grouped_counts(merchant_client, make_case, settings):
    from cases.merchant import views

    for _ in range(3):
        make_case()
    original = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        first = merchant_client.get(URL)
        second = merchant_client.get(URL, {"page": 2})
        junk = merchant_client.get(URL, {"page": "x'"})
    finally:
        views.PAGE_SIZE = original
    assert len(_rows(first)) == 2 and len(_rows(second)) == 1
    assert set(_rows(first)).isdisjoint(_rows(second))
    assert first.context["page"].paginator.count == 3
    assert junk.status_code == 200 and _rows(junk) == _rows(first)


def test_selectors_never_leave_given_shops(make_case, other_shop):
    make_case()
    foreign = make_case(shop_=other_shop)
    filters = QueueFilters()
    assert foreign not in list(queue_cases([foreign.shop_id + 999], filters))
    assert sum(queue_state_counts([other_shop.pk], filters).values()) == 1


def _bulk_cases(shop, consumer, n: int) -> None:
    """10,000 open cases straight into the table (test data, not a code path)."""
    order = f.OrderFactory(consumer=consumer, shop=shop)
    items = [f.OrderItemFactory(order=order, position=i) for i in range(5)]
    now = timezone.now()
    states = ["pending_merchant", "awaiting_return", "return_in_transit", "awaiting_replacement", "in_repair"]
    AfterSalesCase.objects.bulk_create(
        [
            AfterSalesCase(
                number=f"BULK{i:08d}", order_item=items[i % 5], consumer=consumer, shop=shop,
                kind="return_refund", reason="no_reason", amount=Decimal("9.90"), state=states[i % 5],
                deadline_name="merchant_response", deadline_due_at=now + timedelta(minutes=i), created_at=now,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )


@pytest.mark.parametrize("params", [{}, {"state": "in_repair", "page": 3}, {"q": "BULK00000042"},
                                    {"overdue": "1", "sort": "-amount"}])
def test_queue_queries_bounded_with_10000_cases(merchant_client, shop, consumer, params,
                                                django_assert_max_num_queries):
    _bulk_cases(shop, consumer, 10_000)
    with django_assert_max_num_queries(8):
        response = merchant_client.get(URL, params)
    assert response.status_code == 200
    if not params:
        assert response.context["all_count"] == 10_000
        assert len(response.context["rows"]) == 50
        assert _rows(response)[0] == "BULK00000000"
    if "q" in params:
        assert _rows(response) == ["BULK00000042"]


def test_deep_pages_read_ids_first_and_show_the_same_cases(merchant_client, make_case, monkeypatch):
    from cases import selectors
    from cases.merchant import views

    for _ in range(5):
        make_case()
    monkeypatch.setattr(views, "PAGE_SIZE", 2)

    def pages() -> list[list[str]]:
        return [_rows(merchant_client.get(URL, {"page": n})) for n in (1, 2, 3)]

    direct = pages()
    monkeypatch.setattr(selectors, "DEFERRED_JOIN_OFFSET", 1)
    assert pages() == direct
    assert [len(p) for p in direct] == [2, 2, 1] and len({n for p in direct for n in p}) == 5
