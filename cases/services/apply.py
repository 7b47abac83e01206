"""The apply half of every case move: one move (a person's action) or a batch of 500 (the deadline sweep),
the same statements.

Called while holding the case rows' SELECT … FOR UPDATE locks, after the check half (who may act, from which
state, with which input) has run and the transition has been made in memory. It writes, in bulk: the fields
each move changed, `updated_at`/`closed_at`, the clocks (the old one fired or cancelled, the next one started
from the lifecycle table), the audit events, the refunds of moves into `refunded` (what is paid becomes the
refund amount), the other apps' duties on leaving a state, the notifications; then each move's own after-work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.db.models import F

from portal.bulk_insert import array_placeholder, insert_columns, update_columns
from portal.models import User

from .. import policy
from ..choices import Action, ActorRole, State
from ..deadlines import active_holidays
from ..hooks import cases_left
from ..lifecycle import DEADLINE_FOR_STATE
from ..models import AfterSalesCase, CaseEvent, Deadline, Refund, RefundPayout
from ..notifications import Notices, case_params, next_party_notice, shop_members, staff_ids
from ..refunds import payouts_enqueue, restore_points_and_coupons
from .money import pay

log = logging.getLogger("cases")

# The case's own columns a move may change (everything but identity and what only submission sets).
_NOT_MOVED = {"id", "number", "order_item_id", "consumer_id", "shop_id", "created_at"}
MOVABLE_FIELDS = [f.attname for f in AfterSalesCase._meta.concrete_fields if f.attname not in _NOT_MOVED]


def snapshot(case: AfterSalesCase) -> dict[str, Any]:
    """The case's movable fields as loaded (taken before the transition: what a move changed is the difference)."""
    return {name: getattr(case, name) for name in MOVABLE_FIELDS}


After = Callable[[AfterSalesCase, str, str], None]
# the moves after which the last ruling still stands as the case's decision (docs/appeals.md)
_KEEP_RULING = {Action.RULE, Action.APPEAL, Action.ANSWER_APPEAL, Action.DECIDE_APPEAL}


@dataclass
class Move:
    """One case moved in memory by `action`, ready to be written."""

    case: AfterSalesCase
    action: str
    role: str
    actor: User | None
    from_state: str
    before: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict)
    fired: Deadline | None = None  # the clock whose expiry made this move
    after: After | None = None  # the move's own work once the common writes are done (money, alerts)


def moves_apply(moves: list[Move], *, now: datetime, paid: set[int] | None = None) -> None:
    """Write checked, transitioned moves (see the module's docstring). Must run inside the locking transaction.

    `paid`: the ids of the moved cases that already have a refund, when the caller read them with its lock
    (the sweep does); None looks them up."""
    if not moves:
        return
    cases = [m.case for m in moves]
    for move in moves:
        case = move.case
        case.updated_at = now
        if case.state != move.from_state and move.action not in _KEEP_RULING:
            case.ruled_state = ""  # a later move ends the ruling's standing: it is no longer appealable
        if case.is_terminal and case.closed_at is None:
            case.closed_at = now
        if case.state == State.REFUNDED and case.refund_amount is None:
            case.refund_amount = case.amount
    new_clocks = _clocks(moves, now)
    _write_cases(moves)
    insert_columns(Deadline, new_clocks)
    insert_columns(CaseEvent, {
        "case_id": [m.case.pk for m in moves], "shop_id": [m.case.shop_id for m in moves], "at": [now] * len(moves),
        "actor_id": [m.actor.pk if m.actor else None for m in moves],
        "actor_username": [m.actor.username if m.actor else None for m in moves],
        "role": [m.role for m in moves], "action": [m.action for m in moves],
        "from_state": [m.from_state for m in moves], "to_state": [m.case.state for m in moves],
        "payload": [m.payload for m in moves],
    })
    _refunds(moves, now, paid=paid)
    cases_left([(m.case.pk, m.from_state, m.case.state) for m in moves], now)
    _notify(moves)
    for move in moves:
        if move.after is not None:
            move.after(move.case, move.role, move.from_state)
    for move in moves:
        log.debug("case %s: %s by %s, %s → %s", move.case.number, move.action, move.role, move.from_state,
                  move.case.state, extra={"case": move.case.number})
    if len(cases) == 1:
        move = moves[0]
        log.info("case %s: %s by %s, %s → %s", move.case.number, move.action, move.role, move.from_state,
                 move.case.state, extra={"case": move.case.number})


def _clocks(moves: list[Move], now: datetime) -> dict[str, list[Any]]:
    """Fire or cancel the running clock of each moved case, and the next clock its new state guards (as the
    columns of the new `Deadline` rows)."""
    fired = [m.fired.pk for m in moves if m.fired is not None]
    restart = {m.case.pk for m in moves if m.case.state != m.from_state or m.action == Action.REVISE}
    connection = connections[router.db_for_write(Deadline)]
    if len(moves) > 1 and connection.vendor == "postgresql":  # a batch: the ids as two arrays, not 1,000 parameters
        array = array_placeholder(connection)
        with connection.cursor() as cursor:
            if fired:
                cursor.execute(f'UPDATE "cases_deadline" SET "fired_at" = %s WHERE "id" = ANY({array}::bigint[])',
                               [now, fired])
            if restart:
                cursor.execute(f'UPDATE "cases_deadline" SET "cancelled_at" = %s WHERE "case_id" = ANY({array}::bigint[]) '
                               f'AND "fired_at" IS NULL AND "cancelled_at" IS NULL AND NOT ("id" = ANY({array}::bigint[]))',
                               [now, sorted(restart), fired])
    else:
        if fired:
            Deadline.objects.filter(pk__in=fired).update(fired_at=now)
        Deadline.objects.filter(case_id__in=restart, fired_at__isnull=True, cancelled_at__isnull=True).exclude(
            pk__in=fired).update(cancelled_at=now)
    for move in moves:
        if move.fired is not None:
            move.fired.fired_at = now
    holidays = active_holidays(now) if restart else []
    policies = policy.deadline_policies_at(now) if restart else None
    durations: dict[tuple[str, str, str], int] = {}
    times: dict[int, tuple[datetime, datetime]] = {}  # seconds → (due, remind): the same for every clock of a batch
    clocks: dict[str, list[Any]] = {"case_id": [], "shop_id": [], "name": [], "state": [], "started_at": [],
                                    "duration_seconds": [], "due_at": [], "remind_at": []}
    for move in moves:
        case = move.case
        if case.pk not in restart:
            continue
        name = DEADLINE_FOR_STATE.get(case.state)
        if name is None:
            case.deadline_name, case.deadline_due_at = "", None
            continue
        key = (name, case.kind, case.reason)
        if key not in durations:
            durations[key] = policy.deadline_seconds(name, kind=case.kind, reason=case.reason, at=now,
                                                    policies=policies)
        seconds = durations[key]
        if seconds not in times:
            due = policy.due_time(now, seconds, holidays)
            times[seconds] = (due, policy.reminder_time(now, due, seconds))
        due, remind = times[seconds]
        for column, value in (("case_id", case.pk), ("shop_id", case.shop_id), ("name", name), ("state", case.state),
                              ("started_at", now), ("duration_seconds", seconds), ("due_at", due),
                              ("remind_at", remind)):
            clocks[column].append(value)
        case.deadline_name, case.deadline_due_at = name, due
    return clocks


def _write_cases(moves: list[Move]) -> None:
    """One UPDATE per group of cases whose changed fields and new values are the same (a batch shares `now`
    and its clocks); a refund amount equal to the claim is written as the claim column, so it groups too.
    On PostgreSQL a batch is one `UPDATE … FROM unnest(…)` setting each case's changed fields
    (portal.bulk_insert.update_columns)."""
    if len(moves) > 1 and connections[router.db_for_write(AfterSalesCase)].vendor == "postgresql":
        update_columns(AfterSalesCase, [
            (m.case.pk, {name: getattr(m.case, name) for name in MOVABLE_FIELDS
                         if name == "updated_at" or getattr(m.case, name) != m.before[name]})
            for m in moves], MOVABLE_FIELDS)
        return
    groups: dict[tuple, list[int]] = defaultdict(list)
    for move in moves:
        case = move.case
        changed: list[tuple[str, Any]] = []
        for name in MOVABLE_FIELDS:
            value = getattr(case, name)
            if value == move.before[name] and name not in ("updated_at",):
                continue
            if name == "refund_amount" and value is not None and value == case.amount:
                value = "=amount"
            changed.append((name, value))
        groups[tuple(changed)].append(case.pk)
    for group, ids in groups.items():
        update = {name: (F("amount") if name == "refund_amount" and value == "=amount" else value)
                  for name, value in group}
        if update:
            AfterSalesCase.objects.filter(pk__in=ids).update(**update)


def _refunds(moves: list[Move], now: datetime, *, paid: set[int] | None = None) -> None:
    """Moves into `refunded`: what is paid becomes the refund amount. New refunds in bulk (one payout each);
    a case already paid something gets the difference through `refund_settle` (one at a time, rare)."""
    into = [m.case for m in moves if m.case.state == State.REFUNDED and m.from_state != State.REFUNDED]
    if not into:
        return
    if paid is None:
        existing = set(Refund.objects.filter(case__in=into).values_list("case_id", flat=True))
    else:
        existing = {c.pk for c in into if c.pk in paid}
    fresh = [Refund(case=c, amount=_refund_amount(c), idempotency_key=f"refund-{c.number}", created_at=now)
             for c in into if c.pk not in existing]
    created = Refund.objects.bulk_create(fresh)
    if created:
        RefundPayout.objects.bulk_create([
            RefundPayout(refund=r, amount=r.amount, idempotency_key=r.idempotency_key, created_at=now)
            for r in created])
        restore_points_and_coupons(created, now=now)
        payouts_enqueue([r.pk for r in created])
    for case in into:
        if case.pk in existing:
            pay(case, _refund_amount(case), now=now)


def _refund_amount(case: AfterSalesCase) -> Decimal:
    return Decimal(case.refund_amount if case.refund_amount is not None else case.amount)


def _notify(moves: list[Move]) -> None:
    """The party who must act next (the lifecycle table's), and staff when a case is escalated."""
    members = shop_members(m.case.shop_id for m in moves)
    staff: list[int] | None = None
    notices = Notices()
    for move in moves:
        case = move.case
        users, message, params = next_party_notice(case, members)
        notices.add(users, case, move.action, message, params)
        if move.action == Action.ESCALATE:
            staff = staff_ids() if staff is None else staff
            notices.add(staff, case, "escalated", "escalated", case_params(case))
    notices.store()


def system_move(case: AfterSalesCase, action: str, *, payload: dict[str, Any], fired: Deadline | None) -> Move:
    """The system's move of a locked case by the transition named `action` (a deadline's expiry)."""
    before = snapshot(case)
    from_state = case.state
    if action == Action.APPROVE:
        case.auto_approved = True
    getattr(case, action)()
    return Move(case=case, action=action, role=ActorRole.SYSTEM, actor=None, from_state=from_state, before=before,
                payload=payload, fired=fired)
