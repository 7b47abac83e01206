"""What an order item can be asked for now, and until when, read from `cases.policy` only.

No rule is restated here: `after_sales_options` says what is open and why the rest is not (the form's own
words), and the end of a window is found by asking `check_eligibility` itself at later moments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.utils import timezone

from cases import policy
from cases.choices import Kind, Reason
from cases.policy import SHANGHAI
from portal.models import OrderItem

HORIZON = timedelta(days=3660)
PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class ItemFacts:
    options: list[policy.KindOption]
    ledger: policy.ItemLedger
    now: datetime
    ends: dict[tuple[str, str], datetime | None] = field(default_factory=dict)  # found by `open_until`

    def open_kinds(self, reason: str) -> list[str]:
        return [o.kind for o in self.options if reason in o.open]

    def refusals(self, reason: str) -> list[dict[str, str]]:
        """Why `reason` is closed, per kind (the policy's sentences)."""
        return [{"kind": o.kind, **r} for o in self.options for r in o.refused if r["reason"] == reason]

    def open_pairs(self) -> list[tuple[str, str]]:
        return [(o.kind, r) for o in self.options for r in o.open]


def item_facts(item: OrderItem, *, now: datetime) -> ItemFacts:
    cases = list(item.cases.all())
    ledger = policy.item_ledger(item, cases)
    return ItemFacts(options=policy.after_sales_options(item, now=now, ledger=ledger), ledger=ledger, now=now)


def _probe(item: OrderItem, kind: str, reason: str, ledger: policy.ItemLedger) -> policy.Request:
    """The same probe `after_sales_options` uses: evidence and the intact-goods declaration assumed."""
    units = max(item.quantity - ledger.units_used, 1)
    return policy.Request(kind=kind, reason=reason, quantity=units, amount=None, condition_intact=True,
                          evidence_count=1)


def open_until(item: OrderItem, kind: str, reason: str, facts: ItemFacts) -> datetime | None:
    """The last minute at which (kind, reason) can still be filed, or None when no window closes it.

    Refusals only ever start with time (windows end, never reopen), so searching `check_eligibility`
    itself finds the end without a second copy of the window table: ends already found for this item
    first (kinds often share a window), then whole days (doubling, then halving), then the midnights in
    the last day (most windows end there; the policy confirms it), and only then minute by minute.
    """
    if (kind, reason) in facts.ends:
        return facts.ends[(kind, reason)]
    probe = _probe(item, kind, reason, facts.ledger)

    def allowed(at: datetime) -> bool:
        return policy.check_eligibility(item, probe, now=at, ledger=facts.ledger) is None

    def ends_at(last: datetime) -> bool:
        return allowed(last) and not allowed(last + PRECISION)

    now = facts.now
    end: datetime | None = None
    if allowed(now) and not allowed(now + HORIZON):
        known = [e for e in dict.fromkeys(facts.ends.values()) if e is not None and e >= now]
        end = next((e for e in known if ends_at(e)), None)
        if end is None:
            end = _search(now, allowed, ends_at)
    facts.ends[(kind, reason)] = end
    return end


def _search(now: datetime, allowed: Callable[[datetime], bool], ends_at: Callable[[datetime], bool]) -> datetime:
    """The last allowed minute after `now` (allowed) and before `now + HORIZON` (refused)."""
    day = timedelta(days=1)
    lo, step = now, day
    while now + step < now + HORIZON and allowed(now + step):
        lo, step = now + step, step * 2
    hi = min(now + step, now + HORIZON)
    while hi - lo > day:
        mid = lo + (hi - lo) / 2
        if allowed(mid):
            lo = mid
        else:
            hi = mid
    midnight = datetime.combine(timezone.localtime(lo, SHANGHAI).date() + day, time.min, tzinfo=SHANGHAI)
    while midnight <= hi:
        if ends_at(midnight - PRECISION):
            return midnight - PRECISION
        midnight += day
    while hi - lo > PRECISION:
        mid = lo + (hi - lo) / 2
        if allowed(mid):
            lo = mid
        else:
            hi = mid
    return lo


def warranty_end(item: OrderItem, facts: ItemFacts) -> datetime | None:
    """When a repair stops being possible (the warranty), or None if it is not open now."""
    for reason in (Reason.QUALITY_ISSUE, Reason.OTHER):
        if Kind.REPAIR in facts.open_kinds(reason):
            return open_until(item, Kind.REPAIR, reason, facts)
    return None
