"""What a decision does to the money of a case (lifecycle.md, Money): pay the refund amount, never below what
was already paid, each payout recorded with what it really sends."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from .. import events, policy
from ..models import AfterSalesCase, Refund, RefundPayout
from ..refunds import refund_settle
from .errors import CaseError


def pay(case: AfterSalesCase, amount: Decimal, *, fast: bool = False, now: datetime | None = None) -> RefundPayout | None:
    """Make what the case pays equal `amount` (its first payout, or a further one for a raised amount); the
    case's `refund_amount` follows. A payout beyond the refund's first, or a fast one, gets its own event."""
    payout = refund_settle(case=case, amount=amount, fast=fast, now=now)
    if case.refund_amount != amount:
        case.refund_amount = amount
        AfterSalesCase.objects.filter(pk=case.pk).update(refund_amount=amount)
    if payout is not None and (fast or payout.idempotency_key != f"refund-{case.number}"):
        events.payout_sent(case=case, amount=payout.amount, total=amount, fast=fast, at=now)
    return payout


def paid_so_far(case: AfterSalesCase) -> Decimal:
    """What the case's refund already pays (0.00 without one)."""
    return Refund.objects.filter(case=case).values_list("amount", flat=True).first() or policy.ZERO


def refuse_below_paid(case: AfterSalesCase, amount: Decimal) -> None:
    """A decision for less than the consumer was already paid: 400 `amount_below_paid`, nothing changes."""
    paid = paid_so_far(case)
    if amount < paid:
        raise CaseError("amount_below_paid",
                        _("已向消费者退款 ¥%(paid)s，金额不能低于已退金额") % {"paid": paid}, field="amount")
