"""B1 (merchant queue) and B4 (consumer case page): in-process requests through django.test.Client, with the
query count, against the floor of one hand-written SQL query through psycopg."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portal.models import Shop, User

from .common import BenchError, percentile, raw_connect, time_calls, token_key

FLOOR_SQL = """
SELECT c.id, c.number, c.kind, c.reason, c.state, c.closure_reason, c.quantity, c.amount, c.order_item_id,
       o.number, p.sku, p.name, s.code, u.username, c.freight_payer, c.description, c.condition_intact,
       c.created_at, c.updated_at, c.deadline_name, c.deadline_due_at, c.overdue, c.escalated, c.refund_amount,
       r.amount, r.status, r.fast, r.paid_at
FROM cases_aftersalescase c
JOIN portal_shop s ON s.id = c.shop_id
JOIN portal_orderitem i ON i.id = c.order_item_id
JOIN portal_order o ON o.id = i.order_id
JOIN portal_product p ON p.id = i.product_id
JOIN portal_user u ON u.id = c.consumer_id
LEFT JOIN cases_refund r ON r.case_id = c.id
WHERE c.shop_id = (SELECT id FROM portal_shop WHERE code = %(shop)s)
  AND EXISTS (SELECT 1 FROM portal_shop_members m WHERE m.shop_id = s.id AND m.user_id = %(user)s)
ORDER BY c.deadline_due_at ASC NULLS LAST, c.id
LIMIT 50
"""


@dataclass
class Timing:
    label: str
    samples_ms: list[float]
    queries: int | None = None
    status: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples_ms, 95)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "n": len(self.samples_ms), "p50_ms": round(self.p50, 2),
                "p95_ms": round(self.p95, 2), "queries": self.queries, "status": self.status, **self.extra}


class Statements:
    """What a block sent to PostgreSQL, read from libpq's protocol trace: `count` is every statement,
    transaction statements (BEGIN, SET LOCAL, COMMIT, SAVEPOINT) included, `sent` their text in order.

    CaptureQueriesContext sees the cursor's queries and what Django logs for its atomic blocks; this counts
    what went over the wire (an atomic block that ran nothing sends no BEGIN; psycopg's own statements count).
    """

    def __init__(self) -> None:
        self.sent: list[str] = []

    @property
    def count(self) -> int:
        return len(self.sent)

    @property
    def transaction_statements(self) -> list[str]:
        return [s for s in self.sent if s.split(" ", 1)[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SET",
                                                                        "SAVEPOINT", "RELEASE")]


def _trace_statements(trace: str) -> list[str]:
    """The statements in a libpq trace: a simple-protocol Query, or an extended-protocol Parse+Execute
    (an Execute without a Parse runs a statement prepared earlier: its text is named by the Bind)."""
    sent: list[str] = []
    last_parse = ""
    for line in trace.splitlines():
        parts = line.split("\t")
        if len(parts) < 4 or parts[0] != "F":
            continue
        kind, rest = parts[2], parts[3].strip()
        if kind == "Query":
            sent.append(rest.split('"', 1)[-1].rsplit('"', 1)[0])
        elif kind == "Parse":
            last_parse = rest.split('"', 3)[-1].rsplit('"', 1)[0] if rest.count('"') >= 4 else rest
        elif kind == "Bind":
            if not last_parse:
                last_parse = "(prepared) " + rest.split('"', 3)[3].split('"', 1)[0] if rest.count('"') >= 4 else rest
        elif kind == "Execute":
            sent.append(last_parse)
            last_parse = ""
    return sent


@contextmanager
def count_statements(alias: str = "default") -> Iterator[Statements]:
    """Count the statements a block sends on one Django connection (PostgreSQL, psycopg 3)."""
    conn = connections[alias]
    conn.ensure_connection()
    pgconn = conn.connection.pgconn
    out = Statements()
    with tempfile.TemporaryFile() as f:
        pgconn.trace(f.fileno())
        pgconn.set_trace_flags(1 | 2)  # no timestamps, regression-test format
        try:
            yield out
        finally:
            try:
                pgconn.untrace()
            except Exception:  # the block closed the connection: its trace ended with it
                pass
            f.seek(0)
            out.sent = _trace_statements(f.read().decode("utf-8", "replace"))
            if any(s.startswith("(prepared) ") for s in out.sent) and not conn.connection.closed:
                # name the statements psycopg prepared earlier (read after the trace: not counted)
                with conn.connection.cursor() as cursor:
                    names = dict(cursor.execute("SELECT name, statement FROM pg_prepared_statements").fetchall())
                out.sent = [names.get(s[len("(prepared) "):], s) if s.startswith("(prepared) ") else s
                            for s in out.sent]


def _get(client: Client, url: str) -> Timing:
    with count_statements() as sent, CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
    return Timing(label=url, samples_ms=[], queries=len(ctx.captured_queries), status=response.status_code,
                  extra={"sql": [q["sql"] for q in ctx.captured_queries], "statements": sent.count,
                         "statements_sent": sent.sent})


def _measure(client: Client, url: str, n: int) -> Timing:
    probe = _get(client, url)

    def call() -> None:
        client.get(url)

    probe.samples_ms = time_calls(call, n)
    return probe


def big_shop() -> tuple[Shop, User]:
    shop = Shop.objects.filter(code="bench-0000").first()
    if shop is None:
        raise BenchError("no generated data: run `manage.py bench --generate` first")
    merchant = shop.members.order_by("pk").first()
    if merchant is None:
        raise BenchError("the big shop has no member")
    return shop, merchant


def b1_queue(n: int = 200) -> dict[str, Any]:
    """The 50 most urgent cases of the shop with the most cases: API, merchant page, and the SQL floor."""
    shop, merchant = big_shop()
    url = f"/api/v1/cases/?ordering=deadline&shop={shop.code}&page_size=50"
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {token_key(merchant.pk)}")
    api = _measure(api_client, url, n)
    api_rows = api_client.get(url).json()["results"]
    out: dict[str, Any] = {"shop": shop.code, "shop_cases": shop.cases.count(), "api": api}
    page_client = Client()
    page_client.force_login(merchant)
    try:
        out["page"] = _measure(page_client, f"/merchant/?shop={shop.code}", n)
    except BenchError as exc:  # the merchant desk is another part of the project; report, do not fail B1
        out["page_error"] = str(exc)
    params = {"shop": shop.code, "user": merchant.pk}
    # behind a transaction-mode pooler (DB_PREPARED_STATEMENTS=0) the floor is not prepared either
    prepared = "prepare_threshold" in settings.DATABASES["default"].get("OPTIONS", {})
    with raw_connect(**({} if prepared else {"prepare_threshold": None})) as conn:
        rows = conn.execute(FLOOR_SQL, params).fetchall()

        def floor_call() -> None:
            conn.execute(FLOOR_SQL, params).fetchall()

        out["floor"] = Timing(label="hand-written SQL (psycopg)", samples_ms=time_calls(floor_call, n), queries=1)
        out["same_rows"] = [r[0] for r in rows] == [r["id"] for r in api_rows]
        out["explain_floor"] = _explain(conn, FLOOR_SQL, params)
    main_sql = [q for q in api.extra["sql"] if "LIMIT 50" in q and "cases_aftersalescase" in q]
    count_sql = [q for q in api.extra["sql"] if "COUNT(*)" in q]
    with raw_connect() as conn:
        out["explain_api"] = [_explain(conn, sql) for sql in main_sql[:1] + count_sql[:1]]
    return out


def _explain(conn: Any, sql: str, params: dict[str, Any] | None = None) -> str:
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()
    return "\n".join(r[0] for r in rows)


def b4_case_page(n: int = 200) -> dict[str, Any]:
    """A consumer's case with 100 events, 20 messages and 9 evidence files: API detail and the web page."""
    from cases.models import AfterSalesCase, CaseMessage

    message = CaseMessage.objects.order_by("pk").first()
    if message is None:
        raise BenchError("no generated data: run `manage.py bench --generate` first")
    case = AfterSalesCase.objects.select_related("consumer").get(pk=message.case_id)
    consumer = case.consumer
    out: dict[str, Any] = {
        "case": case.pk, "events": case.events.count(), "messages": case.messages.count(),
        "evidence": case.evidence.count(),
    }
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {token_key(consumer.pk)}")
    out["api"] = _measure(api_client, f"/api/v1/cases/{case.pk}/", n)
    web = Client()
    web.force_login(consumer)
    try:
        out["page"] = _measure(web, f"/cases/{case.pk}/", n)
    except BenchError as exc:
        out["page_error"] = str(exc)
    return out
