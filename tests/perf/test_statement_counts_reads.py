"""Regression guard for the hot reads (issue #26, docs/benchmarks.md): the exact number of statements each
sends to PostgreSQL, transaction statements (BEGIN, SET LOCAL, COMMIT) included, as `manage.py bench` counts
them (libpq's protocol trace, `portal.benchmarks.reads.count_statements`).

These are counts, not times: they do not move with the machine. When a feature deliberately adds a query to
one of these pages, update the number here in the same commit and say why in its message; a number that grows
without such a commit is a regression (B1 and B4 in docs/benchmarks.md are measured against these budgets:
≤ 8 statements for the merchant queue, API and page).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from cases import services
from portal.benchmarks.reads import Statements, count_statements
from tests import factories as f

# transaction=True: no test transaction around the requests, so their own BEGIN/COMMIT are sent and counted
# exactly as in production (inside a test transaction they would be savepoints).
pytestmark = [pytest.mark.django_db(transaction=True)]

if connection.vendor != "postgresql":  # the trace is libpq's; the budgets are PostgreSQL's
    pytestmark.append(pytest.mark.skip(reason="statement counts are measured on PostgreSQL"))

# The budgets. Update deliberately (see above).
LIST_API = 8          # B1: GET /api/v1/cases/?shop=…&ordering=deadline as a merchant (budget ≤ 8)
MERCHANT_PAGE = 6     # B1: GET /merchant/?shop=… (budget ≤ 8)
DETAIL_API = 8        # B4: GET /api/v1/cases/<id>/ as the consumer
CASE_PAGE = 14        # B4: GET /cases/<id>/ as the consumer (no revise form offered: its ceiling is not read)


@pytest.fixture
def cases(consumer: Any, merchant: Any, shop: Any) -> list[int]:
    """Six cases of one shop, half of them answered (events, a clock each), one refunded."""
    ids = []
    for i in range(6):
        item = f.OrderItemFactory(order=f.OrderFactory(consumer=consumer, shop=shop))
        case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind="refund_only",
                                    reason="other", quantity=1)
        if i % 2:
            services.case_approve(case_id=case.pk, actor=merchant)
        ids.append(case.pk)
    return ids


def sent(client: Any, url: str) -> Statements:
    """The statements of a GET after one warm-up GET (the bench measures a warm process too)."""
    assert client.get(url).status_code == 200
    with count_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return statements


def explain(statements: Statements) -> str:
    return "\n".join(f"{i + 1}. {s[:160]}" for i, s in enumerate(statements.sent))


def test_merchant_queue_api(api: Any, merchant: Any, shop: Any, cases: list[int]) -> None:
    client = api(merchant)
    url = f"/api/v1/cases/?ordering=deadline&shop={shop.code}&page_size=50"
    statements = sent(client, url)
    assert len(client.get(url).json()["results"]) == len(cases)
    assert statements.count == LIST_API, explain(statements)


def test_merchant_queue_page(merchant: Any, shop: Any, cases: list[int]) -> None:
    client = Client()
    client.force_login(merchant)
    statements = sent(client, f"/merchant/?shop={shop.code}")
    assert statements.count == MERCHANT_PAGE, explain(statements)


def test_case_detail_api(api: Any, consumer: Any, cases: list[int]) -> None:
    client = api(consumer)
    statements = sent(client, f"/api/v1/cases/{cases[1]}/")
    assert client.get(f"/api/v1/cases/{cases[1]}/").json()["id"] == cases[1]
    assert statements.count == DETAIL_API, explain(statements)


def test_case_page(consumer: Any, cases: list[int]) -> None:
    client = Client()
    client.force_login(consumer)
    statements = sent(client, f"/cases/{cases[1]}/")
    assert statements.count == CASE_PAGE, explain(statements)
