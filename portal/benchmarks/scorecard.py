"""B5 (issue #18): the scorecard of the shop with the most cases (`bench-0000`, 20,000 at scale 1.0) over the
1M-case data: `GET /api/v1/shops/{code}/scorecard/` in process through django.test.Client as the shop's
merchant, its query count, the shop's own counts alone, and the category's pool counted once uncached (what
the first request after the 5-minute cache expires pays; docs/quality.md "Speed")."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.test import Client

from .common import BenchError, time_calls, token_key
from .reads import Timing, _get, big_shop


def b5_scorecard(n: int = 200) -> dict[str, Any]:
    from cases.scorecard import category_figures, counts_by_shop, shop_category, window

    shop, merchant = big_shop()
    url = f"/api/v1/shops/{shop.code}/scorecard/"
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_key(merchant.pk)}")
    category = shop_category(shop.pk)
    cache.delete(f"scorecard:category:{category}")
    lo, hi = window()
    started = time.perf_counter()
    category_figures(category, lo, hi, cached=False)
    pool_ms = (time.perf_counter() - started) * 1000.0
    api = _get(client, url)  # fills the category's cache, as the first request after it expires does
    card = client.get(url).json()
    if card.get("shop") != shop.code:
        raise BenchError(f"GET {url} did not answer the shop's scorecard: {card!r:.300}")

    def call() -> None:
        client.get(url)

    api.samples_ms = time_calls(call, n)
    api.label = url
    own = Timing(label="counts_by_shop (the shop's own figures, no HTTP)",
                 samples_ms=time_calls(lambda: counts_by_shop([shop.pk], *window()), n), queries=None)
    return {"shop": shop.code, "shop_cases": shop.cases.count(), "category": category, "api": api, "own": own,
            "category_pool_uncached_ms": pool_ms, "counts": card["counts"]}
