"""A marketplace at scale, written with COPY: shops, consumers, orders, cases in every state with their events,
deadlines and refunds, consistent with lifecycle.md (every event follows an arrow; every open case has its one
running clock; every refunded case its Refund).

Scale 1.0 is 1,000 shops, 100,000 consumers, 1,000,000 orders with one case each (one shop holds 20,000 of
them), plus a pool of fresh orders without cases for the load test's submissions and one case with 100 events,
20 messages and 9 evidence files for B4.

Speed comes from COPY (psycopg 3 `cursor.copy()`), one connection per large table streaming at once, secondary
indexes dropped during the load and rebuilt after, and foreign-key triggers off for the loading session
(`session_replication_role = replica`): the generator writes ids itself, so the references are right by
construction, and the smoke test checks them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.hashers import make_password

from cases.policy import DEFAULT_DEADLINE_SECONDS, MERCHANT_RESPONSE_SECONDS, freight_payer

from .common import raw_connect, token_key
from .shapes import (
    BULK_TABLES,
    CARRIERS,
    CLOCK,
    COLUMNS,
    DATA_TABLES,
    DAY,
    EXPIRY_ACTION,
    F_,
    HOUR,
    REASONS,
    REGIONS,
    REJECT_REASONS,
    T_,
    TEMPLATES,
    TERMINAL,
    C,
    M,
    N,
    Plan,
    S,
    Y,
    shop_code,
)


@dataclass
class Result:
    plan: Plan
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _money(value: float) -> str:
    return f"{value:.2f}"


class _Stream:
    """One COPY ... FROM STDIN on its own connection, fed text lines in chunks."""

    def __init__(self, stack: ExitStack, table: str):
        self.conn = stack.enter_context(raw_connect())
        self.conn.execute("SET session_replication_role = replica")
        self.conn.execute("SET synchronous_commit = off")
        cur = stack.enter_context(self.conn.cursor())
        self.copy = stack.enter_context(cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN"))
        self.lines: list[str] = []
        self.count = 0

    def add(self, *values: Any) -> None:
        self.lines.append("\t".join(values))
        if len(self.lines) >= 20_000:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.copy.write("\n".join(self.lines) + "\n")
            self.count += len(self.lines)
            self.lines = []


def _copy_small(conn: Any, table: str, rows: list[tuple[Any, ...]]) -> int:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


_EMPTY_BY_TYPE = {"character varying": "''", "text": "''", "boolean": "false", "integer": "0", "bigint": "0",
                  "smallint": "0", "jsonb": "'{}'::jsonb", "numeric": "0"}


def _default_unlisted_columns(conn: Any) -> None:
    """Columns the loader does not write (added by later migrations, NOT NULL with a Python-side default) get
    the model's empty value as a database default, so COPY keeps working as the schema grows."""
    for table, listed in COLUMNS.items():
        names = {c.strip() for c in listed.split(",")}
        rows = conn.execute(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL""", (table,)).fetchall()
        for column, data_type in rows:
            if column not in names and column != "id" and data_type in _EMPTY_BY_TYPE:
                conn.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {_EMPTY_BY_TYPE[data_type]}')


def _secondary_indexes(conn: Any, table: str) -> list[tuple[str, str]]:
    """Indexes that back no constraint (those go on being checked during the load)."""
    return conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        (table,),
    ).fetchall()


def generate(scale: float = 1.0, *, log: Callable[[str], None] = print, seed: int | None = None) -> Result:
    """Replace the marketplace data of the (bench) database with a generated one. Regions, couriers and staff
    groups from the migrations stay."""
    plan = Plan.from_scale(scale)
    if seed is not None:
        plan.seed = seed
    rng = random.Random(plan.seed)
    started = time.perf_counter()
    result = Result(plan=plan, seconds=0.0)
    now = time.time()

    def phase(name: str, since: float) -> float:
        t = time.perf_counter()
        result.phases[name] = round(t - since, 1)
        log(f"  {name}: {t - since:.1f}s")
        return t

    t0 = time.perf_counter()
    with raw_connect(autocommit=True) as conn:
        conn.execute("TRUNCATE " + ", ".join(DATA_TABLES) + " RESTART IDENTITY CASCADE")
        dropped: list[tuple[str, str]] = []
        for table in BULK_TABLES:
            for name, definition in _secondary_indexes(conn, table):
                conn.execute(f"DROP INDEX {name}")
                dropped.append((name, definition))
        # The staff groups come from a migration; a flushed test database may have lost them.
        agents_group, supervisors_group = (
            conn.execute("SELECT id FROM auth_group WHERE name = %s", (name,)).fetchone()
            or conn.execute("INSERT INTO auth_group (name) VALUES (%s) RETURNING id", (name,)).fetchone()
            for name in ("agents", "supervisors")
        )
    t0 = phase("truncate", t0)

    # --- users, shops, products, tokens ---------------------------------------------------------
    password = make_password("pass1234")
    joined = datetime.fromtimestamp(now - 400 * DAY, UTC)
    users: list[tuple[Any, ...]] = [
        (plan.agent_id, password, None, False, "bench_agent", "", "", "", True, True, joined, "staff", True, ""),
        (plan.supervisor_id, password, None, False, "bench_supervisor", "", "", "", True, True, joined, "staff",
         True, ""),
    ]
    for s in range(plan.shops):
        users.append((plan.merchant_id(s), password, None, False, f"bench_m{s:04d}", "", "", "", False, True,
                      joined, "merchant", True, ""))
    for c in range(plan.consumers):
        users.append((plan.consumer_id(c), password, None, False, f"bench_c{c:06d}", "", "", "", False, True,
                      joined, "consumer", c % 50 != 0, f"138{c:08d}"))
    expires = datetime.fromtimestamp(now + 365 * DAY, UTC)
    tokens = [(u[0], hashlib.sha256(token_key(u[0]).encode()).hexdigest(), joined, expires, None, u[0])
              for u in users]
    shops = [(s + 1, shop_code(s), "压测大店" if s == 0 else f"压测店铺 {s:04d}", REGIONS[s % len(REGIONS)],
              f"退货仓 {s} 号", "售后部", "021-5555 0000") for s in range(plan.shops)]
    products = []
    for s in range(plan.shops):
        for j in range(plan.products_per_shop):
            pid = s * plan.products_per_shop + j + 1
            products.append((pid, f"B{s:04d}-{j:02d}", f"商品 {s}-{j}", "general", True, 365 if j < 6 else 0,
                             300 + 200 * j, 20 + j, 15, 10, s + 1))
    with raw_connect() as conn:
        _default_unlisted_columns(conn)
        conn.execute("SET session_replication_role = replica")
        result.counts["users"] = _copy_small(conn, "portal_user", users)
        _copy_small(conn, "portal_apitoken", tokens)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO portal_user_groups (user_id, group_id) VALUES (%s, %s)",
                            [(plan.agent_id, agents_group[0]), (plan.supervisor_id, agents_group[0]),
                             (plan.supervisor_id, supervisors_group[0])])
        result.counts["shops"] = _copy_small(conn, "portal_shop", shops)
        _copy_small(conn, "portal_shop_members",
                    [(s + 1, s + 1, plan.merchant_id(s)) for s in range(plan.shops)])
        result.counts["products"] = _copy_small(conn, "portal_product", products)
        conn.commit()
    t0 = phase("users, shops, products, tokens", t0)

    # --- orders, items, cases, events, deadlines, refunds -----------------------------------------
    weights = [w for w, _, _ in TEMPLATES]
    cumulative = []
    total = 0
    for w in weights:
        total += w
        cumulative.append(total)
    merchant_response = {
        "refund_only": MERCHANT_RESPONSE_SECONDS["refund_only"], "other": MERCHANT_RESPONSE_SECONDS["other"]
    }

    def duration(state: str, kind: str) -> int:
        name = CLOCK[state]
        if name == "merchant_response":
            return merchant_response["refund_only" if kind == "refund_only" else "other"]
        return DEFAULT_DEADLINE_SECONDS[name]

    ids = {"event": 0, "deadline": 0, "refund": 0}
    with ExitStack() as stack:
        st = {table: _Stream(stack, table) for table in BULK_TABLES}
        orders, items, cases = st["portal_order"], st["portal_orderitem"], st["cases_aftersalescase"]
        events, deadlines, refunds = st["cases_caseevent"], st["cases_deadline"], st["cases_refund"]

        def add_order(oid: int, consumer: int, shop: int, signed: float, paid: float, qty: int) -> int:
            product = shop * plan.products_per_shop + rng.randrange(plan.products_per_shop) + 1
            paid_at = _ts(signed - 3 * DAY)
            orders.add(str(oid), f"TB{oid:012d}", paid_at, _ts(signed - 2 * DAY), _ts(signed),
                       "0.00", "0", T_ if oid % 3 == 0 else F_, "", N, N, REGIONS[oid % len(REGIONS)],
                       f"某街道 {oid % 997} 号", f"收件人{consumer % 1000}", f"139{oid % 100000000:08d}",
                       str(plan.consumer_id(consumer)), str(shop + 1))
            # the item carries its order's shop and payment time (portal.models.OrderItem)
            items.add(str(oid), "1", str(qty), _money(paid / qty), _money(paid), str(oid), str(product),
                      str(shop + 1), paid_at)
            return product

        def add_case(cid: int, shop: int, consumer: int, kind: str, reason: str,
                     steps: list[tuple[str, str, str]], times: list[float], *, open_until: float) -> None:
            qty = 1 + (cid % 7 == 0)
            paid = round(rng.uniform(19, 1999), 2)
            add_order(cid, consumer, shop, times[0] - rng.uniform(0.2, 4) * DAY, paid, qty)
            amount = paid if kind in ("refund_only", "return_refund") else 0.0
            if kind in ("refund_only", "return_refund") and cid % 5 == 0:
                amount = round(paid * 0.5, 2)
            consumer_id, merchant_id = plan.consumer_id(consumer), plan.merchant_id(shop)
            cname, mname = f"bench_c{consumer:06d}", f"bench_m{shop:04d}"
            state, prev = "pending_merchant", None
            refund_amount: float | None = None
            refund_on_receipt = auto_approved = escalated = ruled = False
            first_response = closed_at = None
            closure = None
            ret_carrier = ret_tracking = rep_carrier = rep_tracking = ""
            assignee = N
            running: tuple[str, float] | None = None
            for i, (action, role, to_state) in enumerate(steps):
                at = times[i]
                payload: dict[str, Any] = {}
                if action == "submit":
                    payload = {"kind": kind, "reason": reason, "quantity": qty, "amount": _money(amount),
                               "evidence": 0}
                elif action == "approve":
                    if kind in ("refund_only", "return_refund"):
                        refund_amount = amount
                    refund_on_receipt = kind == "return_refund"
                    if role == Y:
                        auto_approved, payload = True, {"auto": True}
                elif action == "reject":
                    payload = {"reason": REJECT_REASONS[cid % 3]}
                elif action == "ship_return":
                    ret_carrier, ret_tracking = CARRIERS[cid % 5], f"{CARRIERS[cid % 5]}{cid:012d}"
                    payload = {"carrier": ret_carrier, "tracking_number": ret_tracking}
                elif action in ("ship_replacement", "ship_repaired"):
                    rep_carrier, rep_tracking = "SF", f"SFR{cid:012d}"
                    payload = {"carrier": rep_carrier, "tracking_number": rep_tracking}
                elif action in ("escalate", "intervene"):
                    escalated = True
                    if action == "intervene":
                        assignee = str(plan.agent_id)
                elif action == "rule":
                    ruled = True
                    if to_state == "refunded":
                        refund_amount = amount or round(paid * 0.3, 2)
                        payload = {"decision": "refund", "rationale": "凭证显示商品存在质量问题",
                                   "amount": _money(refund_amount), "require_return": False}
                    else:
                        closure = "ruled_for_merchant"
                        payload = {"decision": "reject", "rationale": "买家未能提供有效凭证"}
                elif action == "approve_refund":
                    refund_amount = paid
                    payload = {"amount": _money(paid)}
                elif action in ("confirm_receipt", "confirm_completion") and role == Y:
                    payload = {"auto": True} if action == "confirm_receipt" else {}
                if action == "withdraw":
                    closure = "withdrawn"
                elif action == "expire":
                    closure = "expired"
                if role == M and first_response is None:
                    first_response = at
                if role == C:
                    actor, actor_name = str(consumer_id), cname
                elif role == M:
                    actor, actor_name = str(merchant_id), mname
                elif role == S:
                    actor, actor_name = str(plan.agent_id), "bench_agent"
                else:
                    actor, actor_name = N, N
                ids["event"] += 1
                events.add(str(ids["event"]), _ts(at), actor_name, role, action, prev or N, to_state,
                           json.dumps(payload, ensure_ascii=False), actor, str(cid), str(shop + 1))
                # The clock of the state we leave: fired by the system at its due time, or cancelled.
                if running is not None:
                    did, name, started, seconds, due, remind = running
                    fired = role == Y and EXPIRY_ACTION.get(name) == action
                    deadlines.add(str(did), name, prev, _ts(started), str(seconds), _ts(due), _ts(remind),
                                  _ts(remind) if remind <= at else N, _ts(at) if fired else N,
                                  N if fired else _ts(at), str(cid), str(shop + 1))
                    running = None
                prev = state = to_state
                if state in CLOCK:
                    seconds = duration(state, kind)
                    due = at + seconds
                    remind = due - (seconds / 2 if seconds <= 48 * HOUR else DAY)
                    ids["deadline"] += 1
                    running = (ids["deadline"], CLOCK[state], at, seconds, due, remind)
            deadline_name, deadline_due = "", N
            if running is not None:
                did, name, started, seconds, due, remind = running
                deadlines.add(str(did), name, state, _ts(started), str(seconds), _ts(due), _ts(remind),
                              _ts(remind) if remind <= open_until else N, N, N, str(cid), str(shop + 1))
                deadline_name, deadline_due = name, _ts(due)
            last = times[len(steps) - 1]
            if state in TERMINAL:
                closed_at = last
            if state == "refunded":
                ids["refund"] += 1
                refunds.add(str(ids["refund"]), _money(refund_amount or amount), "succeeded", F_,
                            f"refund-AS{cid:010d}", "1", f"SIM-{cid}", "", _ts(last), _ts(last + 90), "0", F_,
                            str(cid), str(shop + 1))
            created = times[0]
            insured = cid % 3 == 0
            payer = freight_payer(kind, reason, insured=insured)
            cases.add(str(cid), f"AS{cid:010d}", kind, reason, str(qty), _money(amount), "", T_ if
                      reason == "no_reason" else F_, payer or N, state, closure or N,
                      _money(refund_amount) if refund_amount is not None else N, T_ if refund_on_receipt else F_,
                      T_ if ruled else F_, ret_carrier, ret_tracking, rep_carrier, rep_tracking, deadline_name,
                      deadline_due, F_, T_ if auto_approved else F_, T_ if escalated else F_,
                      _ts(first_response) if first_response else N, _ts(created), _ts(last),
                      _ts(closed_at) if closed_at else N, assignee, str(consumer_id), str(cid), str(shop + 1))

        big_left = plan.big_shop_cases
        for cid in range(1, plan.cases):
            weight_pick = rng.random() * total
            _, kind, steps = TEMPLATES[bisect.bisect_right(cumulative, weight_pick)]
            reason = rng.choice(REASONS[kind])
            remaining = plan.cases - cid
            if big_left and rng.random() * remaining < big_left:
                shop, big_left = 0, big_left - 1
            else:
                shop = rng.randrange(1, plan.shops)
            consumer = rng.randrange(plan.consumers)
            # Times backwards from the last event: an open case's clock is still running now.
            final = steps[-1][2]
            if final in CLOCK:
                last = now - rng.uniform(0.02, 0.9) * duration(final, kind)
            else:
                last = now - rng.uniform(1, 170) * DAY
            times = [last]
            for i in range(len(steps) - 1, 0, -1):
                action, role = steps[i][0], steps[i][1]
                left_state = steps[i - 1][2]
                seconds = duration(left_state, kind)
                gap = seconds if role == Y and EXPIRY_ACTION.get(CLOCK[left_state]) == action else \
                    rng.uniform(0.05, 0.85) * seconds
                times.append(times[-1] - gap)
            times.reverse()
            add_case(cid, shop, consumer, kind, reason, steps, times, open_until=now)
            if cid % 100_000 == 0:
                log(f"  … {cid:,} cases")

        # B4: a consumer's case with 100 events (submit, 49 × reject/revise, reject) still open.
        b4_steps = [("submit", C, "pending_merchant")]
        for _ in range(49):
            b4_steps += [("reject", M, "rejected"), ("revise", C, "pending_merchant")]
        b4_steps.append(("reject", M, "rejected"))
        b4_times = [now - (len(b4_steps) - i) * HOUR for i in range(len(b4_steps))]
        add_case(plan.b4_case_id, 1, 0, "return_refund", "quality_issue", b4_steps, b4_times, open_until=now)

        # Fresh orders signed two days ago, without cases: what the load test submits cases on.
        for k in range(plan.fresh_orders):
            oid = plan.cases + 1 + k
            add_order(oid, k % plan.consumers, 1 + k % (plan.shops - 1), now - 2 * DAY, round(rng.uniform(19, 999),
                      2), 1)
        for stream in st.values():
            stream.flush()
    for table, stream in st.items():
        result.counts[table] = stream.count
    t0 = phase("orders, items, cases, events, deadlines, refunds (COPY)", t0)

    with raw_connect() as conn:
        conn.execute("SET session_replication_role = replica")
        b4 = plan.b4_case_id
        b4_shop = 2  # add_case(plan.b4_case_id, 1, …): shop index 1, id 2
        consumer_id, merchant_id = plan.consumer_id(0), plan.merchant_id(1)
        messages = [(i + 1, "consumer" if i % 2 == 0 else "merchant", f"第 {i + 1} 条消息：请尽快处理。", False,
                     datetime.fromtimestamp(now - (40 - i) * HOUR, UTC), consumer_id if i % 2 == 0 else merchant_id,
                     b4, b4_shop) for i in range(20)]
        evidence = [(i + 1, "consumer", f"evidence/{b4}/bench-{i + 1}.jpg", f"照片{i + 1}.jpg", "image/jpeg",
                     120_000 + i, "", datetime.fromtimestamp(now - 100 * HOUR, UTC), b4, consumer_id, b4_shop)
                    for i in range(9)]
        _copy_small(conn, "cases_casemessage", messages)
        _copy_small(conn, "cases_caseevidence", evidence)
        conn.commit()

    with raw_connect(autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in dropped:
            conn.execute(definition)
        t0 = phase(f"rebuild {len(dropped)} indexes", t0)
        for table in DATA_TABLES + ["cases_casemessage", "cases_caseevidence"]:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        conn.execute("VACUUM (ANALYZE)")  # visibility map for index-only scans, statistics for the planner
        phase("sequences, vacuum analyze", t0)
    result.seconds = round(time.perf_counter() - started, 1)
    return result
