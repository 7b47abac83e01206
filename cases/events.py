"""The audit timeline's event kinds, one typed function each (the way Saleor's `order/events.py` does it).

Every function appends one `CaseEvent` in the caller's transaction and names its payload's fields, so a
reader of the timeline knows every shape. State moves themselves are written in bulk by
`cases.services.apply.moves_apply` with the action's name as the event kind and the action's payload.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from portal.models import User

from .choices import Action, ActorRole
from .models import AfterSalesCase, CaseEvent

# Event kinds that record something other than a state move (the case stays where it is).
FAST_REFUND = "fast_refund"
FURTHER_PAYOUT = "further_payout"
RATE = "rate"  # the consumer rated the service (cases.quality)
HIDE_RATING_COMMENT = "hide_rating_comment"  # staff hid a rating's comment (cases.quality)
SHOP_NOTICE = "shop_notice"  # the shop's system was told not to ship (cases/shop_notices.py)
SHOP_NOTICE_DELIVERED = "shop_notice_delivered"  # the shop's system acknowledged it
NON_MOVE_KINDS = (FAST_REFUND, FURTHER_PAYOUT, RATE, HIDE_RATING_COMMENT, SHOP_NOTICE, SHOP_NOTICE_DELIVERED)


def event_append(*, case: AfterSalesCase, actor: User | None, role: str, action: str, from_state: str | None,
                 to_state: str, payload: dict[str, Any] | None = None, at: datetime | None = None) -> CaseEvent:
    """The one low-level writer (append-only; never updated or deleted)."""
    return CaseEvent.objects.create(
        case=case, at=at or timezone.now(), actor=actor, actor_username=actor.username if actor else None,
        role=role, action=action, from_state=from_state, to_state=to_state, payload=payload or {},
    )


def submitted(*, case: AfterSalesCase, consumer: User, kind: str, reason: str, quantity: int, amount: Decimal,
              evidence: int, at: datetime) -> CaseEvent:
    """`submit`: the consumer opened the case (payload: kind, reason, quantity, amount, evidence count)."""
    return event_append(case=case, actor=consumer, role=ActorRole.CONSUMER, action=Action.SUBMIT, from_state=None,
                        to_state=case.state, at=at,
                        payload={"kind": kind, "reason": reason, "quantity": quantity, "amount": str(amount),
                                 "evidence": evidence})


def payout_sent(*, case: AfterSalesCase, amount: Decimal, total: Decimal, fast: bool,
                at: datetime | None) -> CaseEvent:
    """`fast_refund` (paid the moment the return shipped) or `further_payout` (a raised amount's difference):
    a payout really created, with the amount it sends and the refund's new total."""
    return event_append(case=case, actor=None, role=ActorRole.SYSTEM, action=FAST_REFUND if fast else FURTHER_PAYOUT,
                        from_state=case.state, to_state=case.state, at=at,
                        payload={"amount": str(amount), "total": str(total)})
