"""Helpers for pickup tests (importable; fixtures live in conftest.py)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pickups.signing import sign

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23, 07:00 in Shanghai: the first 09:00 window is exactly 2 h away.
MONDAY_7AM = datetime(2026, 11, 23, 7, 0, tzinfo=SHANGHAI)


def make_case(consumer: Any, merchant: Any, item: Any, *, kind: str = "return_refund", reason: str = "no_reason",
              quantity: int = 1) -> Any:
    """A case in awaiting_return, made the way a user would make one."""
    from cases import services

    case = services.case_submit(consumer=consumer, order_item_id=item.pk, kind=kind, reason=reason,
                                quantity=quantity,
                                condition_intact=True)
    return services.case_approve(case_id=case.pk, actor=merchant)


def signed_post(client: Any, body: dict[str, Any] | bytes, *, secret: str, courier: str = "simulated",
                timestamp: int | None = None, signature: str | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"HTTP_X_TIMESTAMP": str(ts), "HTTP_X_SIGNATURE": signature or sign(secret, ts, raw)}
    return client.post(f"/api/v1/couriers/{courier}/webhook/", data=raw, content_type="application/json",
                       **headers)
