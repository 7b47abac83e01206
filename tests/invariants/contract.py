"""The contract (lifecycle.md, api.md) as test data, and invariants that need no knowledge of the path taken.

Written from the design documents, not from the code's own tables (cases.permissions), so a change to the
code's roles or arrows that the contract does not allow is caught here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

S_PM, S_RJ, S_AR, S_RIT = "pending_merchant", "rejected", "awaiting_return", "return_in_transit"
S_AREP, S_REP, S_RPT = "awaiting_replacement", "in_repair", "replacement_in_transit"
S_ARB, S_AWR = "in_arbitration", "awaiting_ruling"
S_REF, S_COMP, S_CLOSED = "refunded", "completed", "closed"
S_AV = "awaiting_visit"  # docs/visits.md: a technician repairs on site
S_UA, S_INT = "under_appeal", "intercepting"  # lifecycle.md "Added 2026-12-02"; docs/appeals.md, interception.md
TERMINAL = frozenset({S_REF, S_COMP, S_CLOSED})
NON_TERMINAL = frozenset({S_PM, S_RJ, S_AR, S_RIT, S_AREP, S_REP, S_RPT, S_ARB, S_AWR, S_AV, S_UA, S_INT})

# lifecycle.md "States and actions": action → role → (sources, targets)
ARROWS: dict[str, dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "submit": {"consumer": (frozenset({None}), frozenset({S_PM}))},  # type: ignore[arg-type]
    "approve": {"merchant": (frozenset({S_PM}), frozenset({S_REF, S_AR})),
                # the system also approves when the courier stopped the parcel (interception)
                "system": (frozenset({S_PM, S_INT}), frozenset({S_REF, S_AR}))},
    "reject": {"merchant": (frozenset({S_PM}), frozenset({S_RJ}))},
    "revise": {"consumer": (frozenset({S_PM, S_RJ}), frozenset({S_PM}))},
    "escalate": {"consumer": (frozenset({S_RJ, S_RPT}), frozenset({S_ARB})),
                 "system": (frozenset({S_AREP, S_REP}), frozenset({S_ARB}))},
    "ship_return": {r: (frozenset({S_AR}), frozenset({S_RIT})) for r in ("consumer", "system")},
    "confirm_receipt": {r: (frozenset({S_RIT}), frozenset({S_REF, S_AREP, S_REP})) for r in ("merchant", "system")},
    "refuse_receipt": {"merchant": (frozenset({S_RIT}), frozenset({S_RJ}))},
    "ship_replacement": {"merchant": (frozenset({S_AREP}), frozenset({S_RPT}))},
    "ship_repaired": {"merchant": (frozenset({S_REP}), frozenset({S_RPT}))},
    "approve_refund": {"merchant": (frozenset({S_AREP, S_REP}), frozenset({S_REF}))},
    "confirm_completion": {r: (frozenset({S_RPT}), frozenset({S_COMP})) for r in ("consumer", "system")},
    # not from under_appeal: the appeal already is the platform's review (docs/appeals.md)
    "intervene": {"staff": (NON_TERMINAL - {S_ARB, S_UA}, frozenset({S_ARB}))},
    "close_evidence": {r: (frozenset({S_ARB}), frozenset({S_AWR})) for r in ("staff", "system")},
    "rule": {"staff": (frozenset({S_ARB, S_AWR}), frozenset({S_REF, S_AR, S_CLOSED}))},
    "withdraw": {"consumer": (frozenset({S_PM, S_RJ, S_AR}), frozenset({S_CLOSED}))},
    "expire": {"system": (frozenset({S_RJ, S_AR}), frozenset({S_CLOSED}))},
    # on-site repair visits (docs/visits.md)
    "book_visit": {"consumer": (frozenset({S_AR}), frozenset({S_AV}))},
    "cancel_visit": {r: (frozenset({S_AV}), frozenset({S_AR})) for r in ("consumer", "system")},
    "visit_repaired": {"system": (frozenset({S_AV}), frozenset({S_COMP}))},
    "visit_needs_workshop": {"system": (frozenset({S_AV}), frozenset({S_AR}))},
    "visit_not_repairable": {"system": (frozenset({S_AV}), frozenset({S_REP}))},
    # appeals: the only arrow out of a terminal state (lifecycle.md "Added 2026-12-02")
    "appeal": {r: (frozenset({S_REF, S_CLOSED, S_AR}), frozenset({S_UA})) for r in ("consumer", "merchant")},
    "answer_appeal": {r: (frozenset({S_UA}), frozenset({S_UA})) for r in ("consumer", "merchant")},
    "decide_appeal": {"staff": (frozenset({S_UA}), frozenset({S_REF, S_AR, S_CLOSED}))},
    # interception of a parcel still on its way
    "intercept": {r: (frozenset({S_PM}), frozenset({S_INT})) for r in ("consumer", "merchant")},
    "intercept_failed": {"system": (frozenset({S_INT}), frozenset({S_PM}))},
}
# Which roles may ever take an action (the authority matrix for writes reads this too).
ACTION_ROLES: dict[str, frozenset[str]] = {a: frozenset(by_role) for a, by_role in ARROWS.items()}

# lifecycle.md "Deadlines": the clock that runs in each state.
CLOCK_FOR_STATE = {
    S_PM: "merchant_response", S_RJ: "consumer_revise", S_AR: "consumer_ship", S_RIT: "merchant_receive",
    S_AREP: "merchant_ship_replacement", S_REP: "merchant_repair", S_RPT: "consumer_confirm",
    S_ARB: "evidence", S_AWR: "ruling_sla", S_AV: "technician_visit",
    S_UA: "appeal_answer", S_INT: "interception",
}

# Every code a refusal may carry (lifecycle.md, api.md), with its status where the contract fixes one.
CODE_STATUS: dict[str, int | None] = {
    "not_your_order": 404, "case_already_open": 400, "not_delivered": 400, "reason_not_applicable": 400,
    "quantity_exceeds_purchased": 400, "amount_exceeds_paid": 400, "amount_not_allowed": 400,
    "window_expired": 400, "category_excluded": 400, "condition_required": 400, "warranty_expired": 400,
    "evidence_required": 400, "report_window_expired": 400, "amount_below_paid": 400,
    "invalid_transition": 409, "not_found": 404, "permission_denied": 403, "conflict": 409,
    "region_not_covered": 400, "remote_region": 400, "overweight": 400, "oversize": 400, "no_slot": 409,
    "wrong_state": 409, "pickup_active": 409,
    # field validation: "a missing required field → 400 with field"
    "required": 400, "invalid": 400, "unsupported_file_type": 415, "file_too_large": 413,
    "too_many_files": 400, "empty_file": 400,
    # the courier webhook
    "invalid_signature": 401, "stale_timestamp": 401, "invalid_json": 400,
    # appeals and interception (2026-12-02)
    "appeal_window_closed": 400, "already_appealed": 400, "not_appealable": 400, "not_interceptable": 400,
    "already_answered": 400, "answer_window_closed": 400,  # docs/appeals.md
    "visit_not_offered": 400,
}
LIVE_PICKUP_STATES = frozenset({"requested", "dispatched"})  # the courier is still coming


def refusal_problem(exc: BaseException) -> str | None:
    """None when `exc` is a refusal the contract allows: a domain error, 4xx, with a contract code."""
    from portal.errors import DomainError

    if not isinstance(exc, DomainError):
        return f"unexpected exception {type(exc).__name__}: {exc}"
    if exc.code not in CODE_STATUS:
        return f"refusal with a code outside the contract: {exc.code!r} ({exc.status})"
    expected = CODE_STATUS[exc.code]
    if not 400 <= exc.status < 500 or (expected is not None and exc.status != expected):
        return f"refusal {exc.code!r} answered {exc.status}, contract says {expected}"
    return None


# --- money -------------------------------------------------------------------------------------------------

@dataclass
class Paid:
    """What the payment provider really sent for one case, against what the portal records."""

    sent: Decimal = Decimal("0.00")          # the provider's ledger, summed over the case's payout keys
    recorded: Decimal | None = None          # the case's Refund.amount (None: no Refund)
    settled: bool = True                     # every payout the portal knows of has succeeded
    keys: list[str] = field(default_factory=list)
    stray_keys: list[str] = field(default_factory=list)  # provider payouts for this case the portal never recorded


def payouts_of(cases: list[Any]) -> dict[int, Paid]:
    """The one place that knows how payouts are recorded: adapt here when the model changes.

    Today: a case has at most one `Refund` (its `amount` is the total owed) paid by one or more payouts,
    each with its own idempotency key (`refund.payouts` when the model has it, else the refund's own key).
    The simulated provider keeps what it really sent in `SimulatedPayout`, keyed by idempotency key; a
    provider payout whose key starts with `refund-<case number>` and that the portal does not record is a
    stray (money sent that no record explains).
    """
    from django.db.models import Q

    from cases.models import Refund
    from cases.payments import SimulatedPayout

    result = {case.pk: Paid() for case in cases}
    if not cases:
        return result
    refunds = list(Refund.objects.filter(case_id__in=result))
    has_payouts = bool(refunds) and hasattr(refunds[0], "payouts")
    if has_payouts:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(refunds, "payouts")
    for refund in refunds:
        paid = result[refund.case_id]
        paid.recorded = refund.amount
        if has_payouts:
            rows = list(refund.payouts.all())
            paid.keys = [p.idempotency_key for p in rows]
            paid.settled = all(getattr(p, "status", "succeeded") == "succeeded" for p in rows)
        else:
            paid.keys = [refund.idempotency_key]
            paid.settled = refund.status == "succeeded"
    match = Q(idempotency_key__in=[k for p in result.values() for k in p.keys])
    for case in cases:
        match |= Q(idempotency_key__startswith=f"refund-{case.number}")
    ledger = {p.idempotency_key: p.amount for p in SimulatedPayout.objects.filter(match)}
    for case in cases:
        paid = result[case.pk]
        paid.sent = sum((ledger[k] for k in paid.keys if k in ledger), Decimal("0.00"))
        mine = f"refund-{case.number}"
        paid.stray_keys = sorted(k for k in ledger if k not in paid.keys
                                 and (k == mine or k.startswith(mine + "-")))
    return result


PAYOUT_EVENT_ACTIONS = ("fast_refund", "further_payout", "payout")


def event_payout_total(events: list[Any]) -> Decimal:
    """What the case's timeline says was paid (events naming a payout and its amount)."""
    total = Decimal("0.00")
    for event in events:
        if event.action in PAYOUT_EVENT_ACTIONS and isinstance(event.payload, dict) and "amount" in event.payload:
            total += Decimal(str(event.payload["amount"]))
    return total


# --- the invariants ----------------------------------------------------------------------------------------

@dataclass
class Figures:
    cases: int = 0
    payouts: int = 0
    events: int = 0


def check_invariants(case_ids: list[int], *, now: Any, after_sweep: bool = False,
                     figures: Figures | None = None) -> list[str]:
    """Every broken invariant over these cases (their items, orders and consumers), as sentences."""
    from cases.models import AfterSalesCase, CaseEvent, Deadline, Refund
    from pickups.models import Pickup
    from portal.models import Order, WalletEntry

    problems: list[str] = []
    cases = list(AfterSalesCase.objects.filter(pk__in=case_ids).select_related("order_item__order")
                 .order_by("pk"))
    events_by_case: dict[int, list[Any]] = defaultdict(list)
    for event in CaseEvent.objects.filter(case_id__in=case_ids).order_by("id"):
        events_by_case[event.case_id].append(event)
    running: dict[int, list[Any]] = defaultdict(list)
    for clock in Deadline.objects.filter(case_id__in=case_ids, fired_at__isnull=True, cancelled_at__isnull=True):
        running[clock.case_id].append(clock)
    live_pickups: dict[int, list[Any]] = defaultdict(list)
    for pickup in Pickup.objects.filter(case_id__in=case_ids, state__in=LIVE_PICKUP_STATES):
        live_pickups[pickup.case_id].append(pickup)
    live_visits: dict[int, int] = defaultdict(int)  # docs/visits.md: a live technician visit
    try:
        from pickups.models import LIVE_VISIT_STATES, RepairVisit

        for case_id in RepairVisit.objects.filter(case_id__in=case_ids, state__in=LIVE_VISIT_STATES).values_list(
                "case_id", flat=True):
            live_visits[case_id] += 1
    except ImportError:
        pass
    sent_by_item: dict[int, Decimal] = defaultdict(Decimal)
    recorded_by_item: dict[int, Decimal] = defaultdict(Decimal)
    items: dict[int, Any] = {}

    paid_by_case = payouts_of(cases)
    advances: dict[int, Decimal] = defaultdict(Decimal)
    try:
        from cases.models import PlatformAdvance
    except ImportError:  # before the platform advance existed
        PlatformAdvance = None  # noqa: N806
    if PlatformAdvance is not None:
        for case_id, amount in PlatformAdvance.objects.filter(case_id__in=case_ids).values_list("case_id", "amount"):
            advances[case_id] += amount
    for case in cases:
        tag = f"case {case.number} ({case.kind}/{case.reason}, {case.state})"
        events = events_by_case[case.pk]
        if figures is not None:
            figures.cases += 1
            figures.events += len(events)
        # money: what is paid equals the refund amount, never more, and the timeline tells the truth
        paid = paid_by_case[case.pk]
        if figures is not None:
            figures.payouts += len(paid.keys)
        if paid.stray_keys:
            problems.append(f"{tag}: provider paid keys the portal does not record: {paid.stray_keys}")
        if paid.recorded is not None:
            if paid.sent > paid.recorded:
                problems.append(f"{tag}: paid {paid.sent} > refund amount {paid.recorded}")
            if paid.settled and paid.sent != paid.recorded:
                problems.append(f"{tag}: refund settled but paid {paid.sent} != refund amount {paid.recorded}")
        if case.state == S_REF and paid.recorded is None:
            problems.append(f"{tag}: refunded without a Refund record")
        if case.state in TERMINAL and paid.recorded is not None:
            if case.refund_amount is not None and case.refund_amount != paid.recorded:
                problems.append(f"{tag}: case refund_amount {case.refund_amount} != Refund.amount {paid.recorded} "
                                f"(paid {paid.sent})")
        if case.closure_reason == "ruled_for_merchant" and paid.sent > 0:
            # lifecycle.md: decided for the merchant after the consumer was paid: the platform bears it
            borne = advances.get(case.pk, Decimal("0.00"))
            if borne != paid.sent:
                problems.append(f"{tag}: ruled for the merchant after {paid.sent} was paid; "
                                f"platform advance recorded {borne}")
        said = event_payout_total(events)
        if said > paid.sent and paid.settled:
            problems.append(f"{tag}: events record payouts of {said}, provider sent {paid.sent}")
        item = case.order_item
        items[item.pk] = item
        sent_by_item[item.pk] += paid.sent
        recorded_by_item[item.pk] += paid.recorded or Decimal("0.00")

        # the audit trail is a chain of contract arrows, each by a role the contract allows
        previous = None
        for i, event in enumerate(events):
            where = f"{tag} event #{i + 1} {event.action} by {event.role} {event.from_state}→{event.to_state}"
            if i == 0:
                if event.action != "submit" or event.from_state is not None:
                    problems.append(f"{where}: the first event is not the submission")
            elif event.from_state != previous:
                problems.append(f"{where}: from_state != previous to_state {previous}")
            previous = event.to_state
            arrows = ARROWS.get(event.action)
            if arrows is None:
                if event.from_state != event.to_state:
                    problems.append(f"{where}: a state change by an action the contract does not know")
                continue
            if event.role not in arrows:
                problems.append(f"{where}: role {event.role} may not take {event.action}")
                continue
            sources, targets = arrows[event.role]
            if event.from_state not in sources or event.to_state not in targets:
                problems.append(f"{where}: not an arrow of the contract")
            if event.action == "confirm_receipt" and event.to_state == S_REF and case.kind in ("exchange", "repair"):
                into_return = [e for e in events[:i] if e.to_state == S_AR and e.from_state != S_AR]
                if not into_return or into_return[-1].action not in ("rule", "decide_appeal"):
                    problems.append(f"{where}: an {case.kind} refunded on receipt though its return was not "
                                    "ordered by a ruling (last entry into awaiting_return: "
                                    f"{into_return[-1].action if into_return else None})")
        if events and previous != case.state:
            problems.append(f"{tag}: last event ends in {previous}, the case is in {case.state}")

        # clocks: none on a terminal case, none for another state, the right one otherwise
        clocks = running[case.pk]
        if len(clocks) > 1:
            problems.append(f"{tag}: {len(clocks)} running clocks")
        for clock in clocks:
            if case.state in TERMINAL:
                problems.append(f"{tag}: terminal case with running clock {clock.name}")
            elif clock.state != case.state or clock.name != CLOCK_FOR_STATE[case.state]:
                problems.append(f"{tag}: running clock {clock.name} for state {clock.state}")
            elif after_sweep and clock.due_at <= now:
                problems.append(f"{tag}: clock {clock.name} due {clock.due_at} still running after a sweep")
        # awaiting_ruling has none; under_appeal's answer clock stops at the answer or runs out (the case is then
        # flagged ready for the decision)
        if case.state in NON_TERMINAL and not clocks and case.state != S_AWR and not (
                case.state == S_UA and case.appeal_ready):
            problems.append(f"{tag}: no running clock in {case.state}")
        if case.state == S_UA and case.appeal_ready and clocks:
            problems.append(f"{tag}: ready for the appeal decision with a running clock {clocks[0].name}")
        mirror = clocks[0] if len(clocks) == 1 else None
        if mirror is not None and (case.deadline_name != mirror.name or case.deadline_due_at != mirror.due_at):
            problems.append(f"{tag}: case shows clock {case.deadline_name} {case.deadline_due_at}, "
                            f"the row says {mirror.name} {mirror.due_at}")
        if (case.state == S_AV) != (live_visits[case.pk] == 1):
            problems.append(f"{tag}: {live_visits[case.pk]} live technician visits while {case.state}")
        if case.state in TERMINAL and live_pickups[case.pk]:
            problems.append(f"{tag}: terminal case with a live pickup "
                            f"({', '.join(p.state for p in live_pickups[case.pk])})")

    # an item's cases are never paid more than the item was
    for item_id, item in items.items():
        if sent_by_item[item_id] > item.paid:
            problems.append(f"item {item_id}: its cases were paid {sent_by_item[item_id]} > item paid {item.paid}")
        if recorded_by_item[item_id] > item.paid:
            problems.append(f"item {item_id}: refunds of {recorded_by_item[item_id]} > item paid {item.paid}")

    # points restored never exceed points used (per order, and per consumer's wallet)
    orders = {item.order_id for item in items.values()}
    restored_by_order: dict[int, int] = defaultdict(int)
    for order_id, points in Refund.objects.filter(case__order_item__order_id__in=orders).values_list(
            "case__order_item__order_id", "points_restored"):
        restored_by_order[order_id] += points
    consumers = {case.consumer_id for case in cases}
    used_by_consumer: dict[int, int] = defaultdict(int)
    for order in Order.objects.filter(consumer_id__in=consumers):
        used_by_consumer[order.consumer_id] += order.points_used
        if order.pk in orders and restored_by_order[order.pk] > order.points_used:
            problems.append(f"order {order.number}: points restored {restored_by_order[order.pk]} "
                            f"> points used {order.points_used}")
    refund_points: dict[int, int] = defaultdict(int)
    compensation: dict[str, int] = defaultdict(int)
    for user_id, key, points in WalletEntry.objects.filter(wallet__user_id__in=consumers).values_list(
            "wallet__user_id", "key", "points"):
        if key.startswith("points-"):
            refund_points[user_id] += points
        elif key.startswith("compensation-"):
            compensation[key.removeprefix("compensation-").split("-")[0]] += points
    for consumer_id in consumers:
        if refund_points[consumer_id] > used_by_consumer[consumer_id]:
            problems.append(f"consumer {consumer_id}: refund points credited {refund_points[consumer_id]} "
                            f"> points used {used_by_consumer[consumer_id]}")
    # compensation: credited once per ruling (an appeal's decision is one too) that named points, never dropped,
    # never twice
    for case in cases:
        promised = sum(int(e.payload.get("compensation_points") or 0) for e in events_by_case[case.pk]
                       if e.action in ("rule", "decide_appeal") and isinstance(e.payload, dict))
        if compensation[case.number] != promised:
            problems.append(f"case {case.number}: rulings promised {promised} compensation points, "
                            f"wallet credited {compensation[case.number]}")
    return problems
