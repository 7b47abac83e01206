"""The system's expiry actions applied to a batch of locked cases at once.

The same transitions, audit events, clocks, refunds and notifications as the one-case services
(`services._run`), written with bulk statements so a sweep fires thousands of deadlines a second.
Refunds restore points and coupons for the whole batch at once (`refunds.restore_points_and_coupons`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from . import policy
from .choices import Action, ActorRole, DeadlineName, State
from .deadlines import active_holidays
from .hooks import cases_left
from .models import AfterSalesCase, CaseEvent, Deadline, Notification, Refund, RefundPayout
from .notifications import NEXT_PARTY_TEXT, notify_many, party_user_ids, shop_members, staff_ids

log = logging.getLogger("cases")

# deadline name → (action, transition, event payload)
EXPIRY: dict[str, tuple[str, str, dict[str, Any]]] = {
    DeadlineName.MERCHANT_RESPONSE: (Action.APPROVE, "approve", {"auto": True}),
    DeadlineName.CONSUMER_REVISE: (Action.EXPIRE, "expire", {}),
    DeadlineName.CONSUMER_SHIP: (Action.EXPIRE, "expire", {}),
    DeadlineName.MERCHANT_RECEIVE: (Action.CONFIRM_RECEIPT, "confirm_receipt", {"auto": True}),
    DeadlineName.MERCHANT_SHIP_REPLACEMENT: (Action.ESCALATE, "escalate", {}),
    DeadlineName.MERCHANT_REPAIR: (Action.ESCALATE, "escalate", {}),
    DeadlineName.CONSUMER_CONFIRM: (Action.CONFIRM_COMPLETION, "confirm_completion", {}),
    DeadlineName.EVIDENCE: (Action.CLOSE_EVIDENCE, "close_evidence", {}),
}
# the expiries whose action may move a case into `refunded`
MAY_REFUND = {DeadlineName.MERCHANT_RESPONSE, DeadlineName.MERCHANT_RECEIVE}
CASE_FIELDS = ["state", "closure_reason", "refund_amount", "refund_on_receipt", "auto_approved", "escalated",
               "closed_at", "deadline_name", "deadline_due_at", "updated_at"]


def fire_batch(deadlines: list[Deadline], now: datetime) -> list[Deadline]:
    """Fire locked, due deadlines whose cases are still in the guarded state.

    Returns the deadlines left for the one-case path. Must run inside the sweep's transaction.
    """
    from .refunds import restore_points_and_coupons

    leftovers: list[Deadline] = []
    moved: list[tuple[Deadline, AfterSalesCase, str, str]] = []
    overdue: list[Deadline] = []
    # A case already paid something (a fast refund) may need a further payout or a refusal: the one-case path.
    paid_before = set(Refund.objects.filter(case_id__in=[d.case_id for d in deadlines]).values_list("case_id", flat=True))
    for deadline in deadlines:
        case = deadline.case
        if deadline.name == DeadlineName.RULING_SLA and case.state == deadline.state:
            overdue.append(deadline)
            continue
        if deadline.name not in EXPIRY or case.state != deadline.state or (
                case.pk in paid_before and deadline.name in MAY_REFUND):
            leftovers.append(deadline)
            continue
        action, transition, _ = EXPIRY[deadline.name]
        from_state = case.state
        if deadline.name == DeadlineName.MERCHANT_RESPONSE:
            case.auto_approved = True
        getattr(case, transition)()
        moved.append((deadline, case, action, from_state))
    if overdue:
        _flag_overdue(overdue, now)
    if not moved:
        if overdue:
            log.info("deadlines fired: %d overdue rulings flagged", len(overdue))
        return leftovers

    holidays = active_holidays(now)
    durations: dict[tuple[str, str, str], int] = {}
    policies = policy.deadline_policies_at(now)
    new_deadlines = []
    refunds_bulk: list[Refund] = []
    for deadline, case, _action, _from_state in moved:
        deadline.fired_at = now
        case.updated_at = now
        name = policy.DEADLINE_FOR_STATE.get(case.state)
        if name is None:
            case.deadline_name, case.deadline_due_at = "", None
        else:
            key = (name, case.kind, case.reason)
            if key not in durations:
                durations[key] = policy.deadline_seconds(name, kind=case.kind, reason=case.reason, at=now,
                                                        policies=policies)
            seconds = durations[key]
            due = policy.due_time(now, seconds, holidays)
            new_deadlines.append(Deadline(case=case, name=name, state=case.state, started_at=now,
                                          duration_seconds=seconds, due_at=due,
                                          remind_at=policy.reminder_time(now, due, seconds)))
            case.deadline_name, case.deadline_due_at = name, due
        if case.is_terminal and case.closed_at is None:
            case.closed_at = now
        if case.state == State.REFUNDED:
            amount = case.refund_amount if case.refund_amount is not None else case.amount
            refunds_bulk.append(Refund(case=case, amount=Decimal(amount), idempotency_key=f"refund-{case.number}",
                                       created_at=now))
    Deadline.objects.filter(pk__in=[d.pk for d, _, _, _ in moved]).update(fired_at=now)
    _update_cases([c for _, c, _, _ in moved])
    cases_left([(case.pk, from_state, case.state) for _, case, _, from_state in moved], now)
    Deadline.objects.bulk_create(new_deadlines)
    CaseEvent.objects.bulk_create([
        CaseEvent(case=case, at=now, actor=None, actor_username=None, role=ActorRole.SYSTEM, action=action,
                  from_state=from_state, to_state=case.state, payload=dict(EXPIRY[d.name][2]))
        for d, case, action, from_state in moved
    ])
    created = Refund.objects.bulk_create(refunds_bulk)
    if created:
        RefundPayout.objects.bulk_create([
            RefundPayout(refund=r, amount=r.amount, idempotency_key=r.idempotency_key, created_at=now) for r in created])
        restore_points_and_coupons(created, now=now)
        ids = [r.pk for r in created]
        transaction.on_commit(lambda: _enqueue_payouts(ids))
    _notify(moved)
    for _deadline, case, action, from_state in moved:
        log.debug("case %s: %s by system, %s → %s", case.number, action, from_state, case.state,
                  extra={"case": case.number})
    log.info("deadlines fired: %d cases moved, %d overdue rulings flagged, %d refunds", len(moved), len(overdue),
             len(created))
    return leftovers


def _update_cases(cases: list[AfterSalesCase]) -> None:
    """One UPDATE per group of cases whose new values are the same (they share `now` and the clock)."""
    from django.db.models import F

    groups: dict[tuple, list[int]] = defaultdict(list)
    for case in cases:
        values = []
        for name in CASE_FIELDS:
            value = getattr(case, name)
            if name == "refund_amount" and value is not None and value == case.amount:
                value = "=amount"
            values.append(value)
        groups[tuple(values)].append(case.pk)
    for values, ids in groups.items():
        update = dict(zip(CASE_FIELDS, values, strict=True))
        if update["refund_amount"] == "=amount":
            update["refund_amount"] = F("amount")
        AfterSalesCase.objects.filter(pk__in=ids).update(**update)


def _enqueue_payouts(refund_ids: list[int]) -> None:
    """One message for the batch (a worker fans it out); if the broker is down, the periodic retry pays
    the pending refunds from the database."""
    from .tasks import enqueue_refund_payouts

    try:
        enqueue_refund_payouts.delay(refund_ids)
    except Exception:
        log.exception("could not enqueue refund payouts", extra={"task": "enqueue_refund_payouts"})


def _notify(moved: list[tuple[Deadline, AfterSalesCase, str, str]]) -> None:
    members = shop_members(case.shop_id for _, case, _, _ in moved)
    staff: list[int] | None = None
    rows = []
    for _deadline, case, action, _from_state in moved:
        party, template = NEXT_PARTY_TEXT.get(case.state, ("both", "售后单 {n} 有新进展"))
        text = template.format(n=case.number)
        rows.extend(Notification(user_id=u, case=case, kind=action, text=text)
                    for u in party_user_ids(case, party, members))
        if action == Action.ESCALATE:
            staff = staff_ids() if staff is None else staff
            rows.extend(Notification(user_id=u, case=case, kind="escalated", text=f"售后单 {case.number} 申请平台介入")
                        for u in staff)
    notify_many(rows)


def _flag_overdue(deadlines: list[Deadline], now: datetime) -> None:
    """`ruling_sla`: no state change; the case is flagged overdue and supervisors are alerted, once."""
    Deadline.objects.filter(pk__in=[d.pk for d in deadlines]).update(fired_at=now)
    AfterSalesCase.objects.filter(pk__in=[d.case_id for d in deadlines]).update(overdue=True)
    supervisors = staff_ids(supervisors_only=True)
    notify_many([
        Notification(user_id=u, case=d.case, kind="ruling_overdue", text=f"售后单 {d.case.number} 裁决已超时")
        for d in deadlines for u in supervisors
    ])
    for d in deadlines:
        d.fired_at = now
