"""Per-core throughput for the capacity model (docs/scale.md): submissions, merchant actions, queue reads
and the deadline sweep, each run in this one process against PostgreSQL through the whole HTTP stack
(django.test.Client: middleware, Bearer auth, DRF, JSON) except the sweep, which is a worker's job.

CPU is counted on both sides: this process (`time.process_time`) and the PostgreSQL backend serving its
connection (`/proc/<pid>/stat`, so the database must run on this machine). Core-seconds per operation =
client CPU + server CPU; operations per core-second is its inverse. Wall time is reported beside it, and the
WAL written per operation (the cluster's WAL position before and after: run it on a cluster nothing else
writes to, e.g. `deploy/postgres/replica.sh pair`, for that figure to be this process's alone).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _backend_cpu() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:  # not on this machine, or behind a pooler: server CPU not counted
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _wal_lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def _wal_bytes_since(lsn: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)::bigint", [lsn])
        return int(cursor.fetchone()[0])


def measure(label: str, n: int, call: Callable[[int], Any]) -> dict[str, Any]:
    call(0)  # warm the connection and the caches
    wal0 = _wal_lsn()
    server0, client0, wall0 = _backend_cpu(), time.process_time(), time.perf_counter()
    for i in range(1, n + 1):
        call(i)
    wall = time.perf_counter() - wall0
    client = time.process_time() - client0
    server = _backend_cpu() - server0
    wal = _wal_bytes_since(wal0)
    per_op = (client + server) / n
    return {"label": label, "n": n, "wall_ms_per_op": round(wall / n * 1000, 2), "wal_bytes_per_op": wal // n,
            "client_cpu_ms_per_op": round(client / n * 1000, 2), "server_cpu_ms_per_op": round(server / n * 1000, 2),
            "ops_per_core_second": round(1 / per_op, 1) if per_op else None}


def b1_cpu(n: int = 200) -> dict[str, Any]:
    """The bench's B1 request (50 most urgent of the big shop, generated data) in core-milliseconds: compares
    direct, DB_PREPARED_STATEMENTS=0 and PgBouncer where wall-clock latency is dominated by a busy machine."""
    from .common import token_key
    from .reads import big_shop

    shop, merchant = big_shop()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_key(merchant.pk)}")
    url = f"/api/v1/cases/?ordering=deadline&shop={shop.code}&page_size=50"

    def read(i: int) -> None:
        assert client.get(url).status_code == 200

    for _ in range(5):  # past psycopg's prepare threshold
        read(0)
    return measure(f"B1 {url}", n, read)


def run(n: int = 300, sweep_n: int = 2000) -> list[dict[str, Any]]:
    from cases.models import AfterSalesCase, Deadline
    from cases.sweep import deadlines_sweep
    from portal.models import ApiToken, OrderItem
    from tests import factories as f

    stamp = timezone.now().strftime("%H%M%S%f")
    consumers = [f.ConsumerFactory(username=f"cap-c{stamp}-{i}", good_standing=False) for i in range(n + 1)]
    merchant = f.MerchantFactory(username=f"cap-m{stamp}")
    shop = f.ShopFactory(code=f"cap-{stamp}", members=[merchant])
    product = f.ProductFactory(shop=shop)
    items = [f.OrderItemFactory(order=f.OrderFactory(consumer=c, shop=shop), product=product) for c in consumers]
    tokens = [ApiToken.issue(c) for c in consumers]
    m_token = ApiToken.issue(merchant)
    results = []

    clients = [Client(HTTP_AUTHORIZATION=f"Bearer {t}") for t in tokens]
    case_ids: list[int] = []

    def submit(i: int) -> None:
        r = clients[i].post("/api/v1/cases/", {"order_item": items[i].pk, "kind": "refund_only", "reason": "other",
                                               "quantity": 1, "amount": "20.00"}, content_type="application/json")
        assert r.status_code == 201, r.content[:300]
        case_ids.append(r.json()["id"])

    results.append(measure("submission (POST /api/v1/cases/)", n, submit))
    merchant_client = Client(HTTP_AUTHORIZATION=f"Bearer {m_token}")
    url = f"/api/v1/cases/?ordering=deadline&shop={shop.code}&page_size=50"

    def read(i: int) -> None:
        r = merchant_client.get(url)
        assert r.status_code == 200

    results.append(measure(f"queue read, 50 of {n + 1} cases (GET {url.split('?')[0]})", n, read))

    def approve(i: int) -> None:
        r = merchant_client.post(f"/api/v1/cases/{case_ids[i]}/actions/approve/", {}, content_type="application/json")
        assert r.status_code == 200, r.content[:300]

    results.append(measure("merchant action (approve: refund + payout task)", n - 1, approve))

    # The sweep: sweep_n cases waiting for the merchant, their clock already run out.
    bulk_items = OrderItem.objects.bulk_create([
        f.OrderItemFactory.build(order=f.OrderFactory(consumer=consumers[0], shop=shop), product=product,
                                 position=i) for i in range(sweep_n)])
    now = timezone.now()
    cases = AfterSalesCase.objects.bulk_create([
        AfterSalesCase(number=f"ASCAP{stamp[-6:]}{i:05d}", order_item=item, consumer=consumers[0], shop=shop,
                       kind="return_refund", reason="other", quantity=1, amount=Decimal("99.00"),
                       freight_payer="consumer", deadline_name="merchant_response",
                       deadline_due_at=now - timedelta(seconds=1))
        for i, item in enumerate(bulk_items)])
    Deadline.objects.bulk_create([
        Deadline(case=c, name="merchant_response", state="pending_merchant", started_at=now, duration_seconds=1,
                 due_at=now - timedelta(seconds=1), remind_at=now - timedelta(seconds=1)) for c in cases])
    fired = [0]

    def sweep(i: int) -> None:
        if i:
            fired[0] += deadlines_sweep()

    row = measure(f"deadline sweep ({sweep_n} due, one process)", 1, sweep)
    row["n"] = fired[0]
    row["wal_bytes_per_op"] = row["wal_bytes_per_op"] // max(fired[0], 1)
    for key in ("wall_ms_per_op", "client_cpu_ms_per_op", "server_cpu_ms_per_op"):
        row[key] = round(row[key] / max(fired[0], 1), 3)
    row["ops_per_core_second"] = round(fired[0] / ((row["client_cpu_ms_per_op"] + row["server_cpu_ms_per_op"])
                                                   * fired[0] / 1000), 1) if fired[0] else None
    results.append(row)
    return results
