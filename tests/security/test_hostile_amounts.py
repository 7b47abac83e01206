"""Found by the model-based test (tests/invariants): an amount too large to quantize was a 500."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", ["1e400", "9" * 60, "1E+30"])
def test_a_huge_amount_is_a_400_not_a_500(api: Any, consumer: Any, item: Any, amount: str) -> None:
    response = api(consumer).post("/api/v1/cases/", {"order_item": item.pk, "kind": "refund_only",
                                                     "reason": "quality_issue", "quantity": 1, "amount": amount},
                                  format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid" and response.json()["field"] == "amount"
