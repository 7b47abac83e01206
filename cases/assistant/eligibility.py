"""What an order item can be asked for now, and until when, read from `cases.policy` only.

No rule is restated here: `after_sales_options` says what is open and why the rest is not (the form's own
words), and the end of a window is found by asking `check_eligibility` itself at later moments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cases import policy
from cases.choices import Kind, Reason
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

    Refusals only ever start with time (windows end, never reopen), so a binary search over
    `check_eligibility` finds the end without a second copy of the window table. Ends already found for
    this item are tried first (kinds often share a window: two probes instead of a search).
    """
    if (kind, reason) in facts.ends:
        return facts.ends[(kind, reason)]
    probe = _probe(item, kind, reason, facts.ledger)

    def allowed(at: datetime) -> bool:
        return policy.check_eligibility(item, probe, now=at, ledger=facts.ledger) is None

    end: datetime | None = None
    lo, hi = facts.now, facts.now + HORIZON
    if allowed(lo) and not allowed(hi):
        for known in dict.fromkeys(e for e in facts.ends.values() if e is not None and e >= lo):
            if allowed(known) and not allowed(known + PRECISION):
                end = known
                break
        else:
            while hi - lo > PRECISION:
                mid = lo + (hi - lo) / 2
                if allowed(mid):
                    lo = mid
                else:
                    hi = mid
            end = lo
    facts.ends[(kind, reason)] = end
    return end


def warranty_end(item: OrderItem, facts: ItemFacts) -> datetime | None:
    """When a repair stops being possible (the warranty), or None if it is not open now."""
    for reason in (Reason.QUALITY_ISSUE, Reason.OTHER):
        if Kind.REPAIR in facts.open_kinds(reason):
            return open_until(item, Kind.REPAIR, reason, facts)
    return None
