"""B2: a backlog of due deadlines fired by two sweeper processes, against a minimal psycopg floor.

Each run works on a throw-away copy of the bench database (CREATE DATABASE … TEMPLATE, a file copy), so every run
fires the same deadlines from the same starting point and the bench data is left as it was.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections

from cases.policy import DEFAULT_DEADLINE_SECONDS, MERCHANT_RESPONSE_SECONDS

from .common import database_url, raw_connect

CLONE_SUFFIX = "_b2"
CLOCK = {
    "pending_merchant": "merchant_response", "rejected": "consumer_revise", "awaiting_return": "consumer_ship",
    "return_in_transit": "merchant_receive", "awaiting_replacement": "merchant_ship_replacement",
    "in_repair": "merchant_repair", "replacement_in_transit": "consumer_confirm", "in_arbitration": "evidence",
    "awaiting_ruling": "ruling_sla",
}
NEXT_PARTY = {
    "refunded": "consumer", "awaiting_return": "consumer", "closed": "both", "awaiting_replacement": "merchant",
    "in_repair": "merchant", "in_arbitration": "both", "completed": "both", "awaiting_ruling": "both",
}


def _source_db() -> str:
    return settings.DATABASES["default"]["NAME"]


def clone(source: str | None = None) -> str:
    """A fresh copy of the bench database (nobody may be connected to the source while it is copied)."""
    source = source or _source_db()
    target = source + CLONE_SUFFIX
    connections.close_all()
    with raw_connect("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    return target


def drop_clone(target: str) -> None:
    with raw_connect("postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def make_due(dbname: str, count: int, seed: float = 0.42) -> dict[str, int]:
    """Move `count` running clocks (a random sample: the natural mix of open states) into the past."""
    with raw_connect(dbname) as conn:
        conn.execute("SELECT setseed(%s)", (seed,))
        conn.execute(
            """CREATE TEMP TABLE due_pick AS
               SELECT id, case_id, name FROM cases_deadline
               WHERE fired_at IS NULL AND cancelled_at IS NULL ORDER BY id LIMIT 0"""
        )
        conn.execute(
            """INSERT INTO due_pick SELECT id, case_id, name FROM (
                 SELECT id, case_id, name, random() AS r FROM cases_deadline
                 WHERE fired_at IS NULL AND cancelled_at IS NULL ORDER BY id) s ORDER BY r LIMIT %s""",
            (count,),
        )
        conn.execute(
            """UPDATE cases_deadline d SET due_at = now() - (interval '1 second' * (1 + (d.id % 3600))),
                      remind_at = now() - interval '2 hours', reminded_at = COALESCE(d.reminded_at, now() - interval '2 hours')
               FROM due_pick p WHERE d.id = p.id"""
        )
        conn.execute(
            """UPDATE cases_aftersalescase c SET deadline_due_at = d.due_at FROM due_pick p
               JOIN cases_deadline d ON d.id = p.id WHERE c.id = p.case_id"""
        )
        mix = dict(conn.execute("SELECT name, count(*) FROM due_pick GROUP BY name ORDER BY 2 DESC").fetchall())
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE cases_deadline")
    return mix


def _remaining_due(dbname: str) -> int:
    with raw_connect(dbname) as conn:
        return conn.execute(
            "SELECT count(*) FROM cases_deadline WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= now()"
        ).fetchone()[0]


def run_sweepers(dbname: str, processes: int = 2, redis_url: str = "") -> dict[str, Any]:
    """`manage.py sweep_deadlines` × processes, in parallel, on the clone; wall time from spawn to last exit."""
    env = dict(os.environ, DATABASE_URL=database_url(dbname), DJANGO_DEBUG="0")
    if redis_url:
        env["REDIS_URL"] = redis_url
    # Output to files, not pipes: a sweeper blocked on a full pipe would sit in its open transaction.
    logs = [tempfile.TemporaryFile("w+") for _ in range(processes)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "manage.py", "sweep_deadlines"], env=env, cwd=settings.BASE_DIR,
                              stdout=log, stderr=subprocess.STDOUT, text=True)
             for log in logs]
    for p in procs:
        p.wait()
    seconds = time.perf_counter() - started
    outputs = []
    for log in logs:
        log.seek(0)
        text = log.read()
        log.close()
        summary = next((ln for ln in text.splitlines() if ln.startswith("fired ")), "")
        outputs.append((summary, text))
    fired = 0
    for out, _err in outputs:
        for word in out.split():
            if word.isdigit():
                fired += int(word)
                break
    failures = [err[-500:] for p, (out, err) in zip(procs, outputs, strict=True) if p.returncode != 0]
    return {"seconds": seconds, "fired": fired, "failures": failures, "remaining_due": _remaining_due(dbname)}


# --- the floor: the same rows written with set-based SQL, per batch ------------------------------------------

def _transition(name: str, kind: str, refund_on_receipt: bool) -> tuple[str, str, str | None]:
    """(action, to_state, closure_reason) of a clock's expiry (lifecycle.md)."""
    if name == "merchant_response":
        return ("approve", "refunded" if kind == "refund_only" else "awaiting_return", None)
    if name in ("consumer_revise", "consumer_ship"):
        return ("expire", "closed", "expired")
    if name == "merchant_receive":
        if refund_on_receipt or kind == "return_refund":
            return ("confirm_receipt", "refunded", None)
        return ("confirm_receipt", "awaiting_replacement" if kind == "exchange" else "in_repair", None)
    if name in ("merchant_ship_replacement", "merchant_repair"):
        return ("escalate", "in_arbitration", None)
    if name == "consumer_confirm":
        return ("confirm_completion", "completed", None)
    if name == "evidence":
        return ("close_evidence", "awaiting_ruling", None)
    return ("", "", None)  # ruling_sla: flag overdue, tell supervisors


def _seconds(name: str, kind: str) -> int:
    if name == "merchant_response":
        return MERCHANT_RESPONSE_SECONDS["refund_only" if kind == "refund_only" else "other"]
    return DEFAULT_DEADLINE_SECONDS[name]


def floor_worker(dbname: str, batch: int, queue: Any) -> None:
    fired = 0
    with raw_connect(dbname) as conn:
        conn.execute("SET synchronous_commit = on")
        supervisors = [r[0] for r in conn.execute(
            "SELECT DISTINCT ug.user_id FROM portal_user_groups ug JOIN auth_group g ON g.id = ug.group_id "
            "WHERE g.name = 'supervisors'").fetchall()]
        while True:
            rows = conn.execute(
                """SELECT d.id, d.case_id, d.name, d.state, c.state, c.kind, c.amount, c.refund_amount,
                          c.refund_on_receipt, c.number, c.consumer_id, m.user_id, c.shop_id
                   FROM cases_deadline d JOIN cases_aftersalescase c ON c.id = d.case_id
                   LEFT JOIN portal_shop_members m ON m.shop_id = c.shop_id
                   WHERE d.fired_at IS NULL AND d.cancelled_at IS NULL AND d.due_at <= now()
                   ORDER BY d.due_at LIMIT %s FOR UPDATE OF d, c SKIP LOCKED""",
                (batch,),
            ).fetchall()
            if not rows:
                conn.commit()
                break
            now = datetime.now(UTC)
            fired_ids, cancelled_ids = [], []
            case_rows, events, new_clocks, refunds, notes = [], [], [], [], []
            for (did, cid, name, guarded, state, kind, amount, refund_amount, on_receipt, number, consumer, member,
                 shop) in rows:
                if state != guarded:
                    cancelled_ids.append(did)
                    continue
                fired_ids.append(did)
                action, to_state, closure = _transition(name, kind, on_receipt)
                if not action:
                    case_rows.append((cid, state, None, name, None, True, False, None, None, on_receipt))
                    notes.extend((u, cid, "ruling_overdue", f"售后单 {number} 裁决已超时", now, shop) for u in supervisors)
                    continue
                new_refund = refund_amount
                if action == "approve" and kind in ("refund_only", "return_refund"):
                    new_refund = amount
                    on_receipt = kind == "return_refund"
                clock = CLOCK.get(to_state)
                due = now + timedelta(seconds=_seconds(clock, kind)) if clock else None
                terminal = to_state in ("refunded", "completed", "closed")
                case_rows.append((cid, to_state, closure, clock or "", due, False, action == "approve", new_refund,
                                  now if terminal else None, on_receipt))
                events.append((now, "system", action, state, to_state,
                               json.dumps({"auto": True} if action in ("approve", "confirm_receipt") else {}), cid, shop))
                if clock:
                    seconds = _seconds(clock, kind)
                    new_clocks.append((clock, to_state, now, seconds, due,
                                       due - timedelta(seconds=seconds / 2 if seconds <= 172800 else 86400), cid, shop))
                if to_state == "refunded":
                    refunds.append((new_refund or amount, f"refund-{number}", now, cid, shop))
                party = NEXT_PARTY.get(to_state, "both")
                text = f"售后单 {number} 有新进展"
                if party in ("consumer", "both"):
                    notes.append((consumer, cid, action, text, now, shop))
                if party in ("merchant", "both") and member is not None:
                    notes.append((member, cid, action, text, now, shop))
            with conn.cursor() as cur:
                if cancelled_ids:
                    cur.execute("UPDATE cases_deadline SET cancelled_at = now() WHERE id = ANY(%s)", (cancelled_ids,))
                cur.execute("UPDATE cases_deadline SET fired_at = now() WHERE id = ANY(%s)", (fired_ids,))
                if case_rows:
                    cols = list(zip(*case_rows, strict=True))
                    cur.execute(
                        """UPDATE cases_aftersalescase c SET state = v.state, closure_reason = v.closure,
                                  deadline_name = v.dname, deadline_due_at = v.due,
                                  overdue = c.overdue OR v.overdue, auto_approved = c.auto_approved OR v.auto,
                                  refund_amount = v.refund, closed_at = COALESCE(v.closed, c.closed_at),
                                  refund_on_receipt = v.on_receipt, updated_at = now()
                           FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::timestamptz[],
                                       %s::bool[], %s::bool[], %s::numeric[], %s::timestamptz[], %s::bool[])
                                AS v(id, state, closure, dname, due, overdue, auto, refund, closed, on_receipt)
                           WHERE c.id = v.id""",
                        [list(c) for c in cols],
                    )
                if events:
                    with cur.copy("COPY cases_caseevent (at, role, action, from_state, to_state, payload, case_id, shop_id) "
                                  "FROM STDIN") as copy:
                        for row in events:
                            copy.write_row(row)
                if new_clocks:
                    with cur.copy("COPY cases_deadline (name, state, started_at, duration_seconds, due_at, remind_at, "
                                  "case_id, shop_id) FROM STDIN") as copy:
                        for row in new_clocks:
                            copy.write_row(row)
                if refunds:
                    with cur.copy("COPY cases_refund (amount, idempotency_key, created_at, case_id, status, fast, "
                                  "attempts, provider_reference, last_error, points_restored, coupon_restored, shop_id) "
                                  "FROM STDIN") as copy:
                        for amount_, key, at, cid, shop_ in refunds:
                            copy.write_row((amount_, key, at, cid, "pending", False, 0, "", "", 0, False, shop_))
                if notes:
                    with cur.copy("COPY cases_notification (user_id, case_id, kind, text, created_at, shop_id, "
                                  "message, params) FROM STDIN") as copy:
                        for row in notes:
                            copy.write_row((*row, "", "{}"))
            conn.commit()
            fired += len(fired_ids)
    queue.put(fired)


def run_floor(dbname: str, processes: int = 2, batch: int = 500) -> dict[str, Any]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    connections.close_all()
    started = time.perf_counter()
    workers = [ctx.Process(target=floor_worker, args=(dbname, batch, queue)) for _ in range(processes)]
    for w in workers:
        w.start()
    fired = sum(queue.get() for _ in workers)
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "fired": fired, "remaining_due": _remaining_due(dbname)}


def b2_once(count: int, *, kind: str, processes: int = 2, redis_url: str = "") -> dict[str, Any]:
    """One run on a fresh clone: `kind` is "sweep" (the portal's code) or "floor"."""
    target = clone()
    try:
        mix = make_due(target, count)
        result = run_sweepers(target, processes, redis_url) if kind == "sweep" else run_floor(target, processes)
        result["mix"] = mix
        result["count"] = sum(mix.values())
        result["rate"] = result["fired"] / result["seconds"] if result["seconds"] else 0.0
        return result
    finally:
        drop_clone(target)
