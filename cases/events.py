"""The audit timeline's event kinds, one typed function each (the way Saleor's `order/events.py` does it).

Every function appends one `CaseEvent` in the caller's transaction and names its payload's fields, so a
reader of the timeline knows every shape. State moves themselves are written in bulk by
`cases.services.apply.moves_apply` with the action's name as the event kind and the action's payload.

Every kind has its payload's type here: `MOVES` (every action of `cases.lifecycle`, the event of a move) and
`KINDS` (those plus the submission and the events that record something other than a state move).
`payload_problems` checks a stored payload against its type; `tests/cases/test_events.py` and the
model-based test (`tests/invariants`) check every event the services write.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict, Union, get_args, get_origin, get_type_hints

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


# --- payload types: amounts are decimal strings ("12.50"), times ISO 8601 strings -------------------------
# (required fields in a base class, optional ones in a `total=False` subclass)


class NoPayload(TypedDict, total=False):
    """A move that records nothing but itself (withdraw, expire, confirm_completion, close_evidence)."""


class ApprovePayload(TypedDict, total=False):
    auto: bool  # the system approved (the merchant_response clock ran out, or a courier intercepted)
    intercepted: bool  # the courier stopped the parcel (docs/interception.md)
    waybill: str


class _ReasonPayload(TypedDict):
    reason: str


class ReasonPayload(_ReasonPayload, total=False):
    """`reject`, `refuse_receipt`: the merchant's reason and, when picked from their list, its code."""

    reason_code: str


class RevisePayload(TypedDict, total=False):
    """Only what the revision changed."""

    reason: list[str]  # [old, new]
    amount: list[str]  # [old, new]
    condition_intact: bool
    description: str


class StatementPayload(TypedDict, total=False):
    statement: str  # `escalate`


class _ShipPayload(TypedDict):
    carrier: str
    tracking_number: str


class ShipPayload(_ShipPayload, total=False):
    """`ship_return` (`pickup`: booked through a courier pickup), `ship_replacement`, `ship_repaired`."""

    pickup: bool


class AutoPayload(TypedDict, total=False):
    auto: bool  # `confirm_receipt` by the system (the merchant_receive clock ran out)


class AmountPayload(TypedDict):
    amount: str  # `approve_refund`


class NotePayload(TypedDict, total=False):
    note: str  # `intervene`


class _RulePayload(TypedDict):
    decision: str  # refund | reject
    rationale: str


class RulePayload(_RulePayload, total=False):
    amount: str
    require_return: bool
    compensation_points: int


class _AppealPayload(TypedDict):
    statement: str
    window_due_at: str | None
    evidence: int  # files brought with it
    ruled_state: str


class AppealPayload(_AppealPayload):
    pass


class AnswerAppealPayload(TypedDict):
    statement: str
    evidence: int


class _DecideAppealPayload(TypedDict):
    outcome: str  # uphold | overturn
    rationale: str
    ruled_state: str


class DecideAppealPayload(_DecideAppealPayload, total=False):
    decision: str
    amount: str
    require_return: bool
    platform_advance: str  # an overturn for the merchant after payment: what the platform advanced
    compensation_points: int


class InterceptPayload(TypedDict):
    carrier: str
    waybill: str


class InterceptFailedPayload(TypedDict, total=False):
    reason: str  # the courier's reason
    expired: bool  # no answer before the interception clock ran out


class BookVisitPayload(TypedDict):
    """`book_visit` (docs/visits.md): the visit booked and its window; `fee` a decimal string."""

    visit: int
    slot: int
    start: str
    end: str
    fee: str
    payer: str


class CancelVisitPayload(TypedDict, total=False):
    expired: bool  # the technician_visit clock ran out (the system cancelled)


class _VisitOutcomePayload(TypedDict):
    visit: int | None  # the visit whose technician reported


class VisitOutcomePayload(_VisitOutcomePayload, total=False):
    """`visit_repaired`, `visit_needs_workshop`, `visit_not_repairable`: the technician's report."""

    note: str


class ShopNoticePayload(TypedDict):
    """`shop_notice`, `shop_notice_delivered` (docs/shop-notices.md)."""

    kind: str
    idempotency_key: str


class SubmitPayload(TypedDict):
    kind: str
    reason: str
    quantity: int
    amount: str
    evidence: int


class PayoutPayload(TypedDict):
    amount: str  # what this payout sends
    total: str  # the refund's new total


class RatePayload(TypedDict):
    stars: int
    tags: list[str]
    pickup_stars: int | None


class HideRatingCommentPayload(TypedDict):
    reason: str


# The event of every move: the action's name is the event's kind.
MOVES: Mapping[str, type] = types.MappingProxyType({
    Action.APPROVE: ApprovePayload, Action.REJECT: ReasonPayload, Action.REVISE: RevisePayload,
    Action.WITHDRAW: NoPayload, Action.ESCALATE: StatementPayload, Action.SHIP_RETURN: ShipPayload,
    Action.CONFIRM_RECEIPT: AutoPayload, Action.REFUSE_RECEIPT: ReasonPayload,
    Action.SHIP_REPLACEMENT: ShipPayload, Action.SHIP_REPAIRED: ShipPayload,
    Action.APPROVE_REFUND: AmountPayload, Action.CONFIRM_COMPLETION: NoPayload, Action.INTERVENE: NotePayload,
    Action.CLOSE_EVIDENCE: NoPayload, Action.RULE: RulePayload, Action.EXPIRE: NoPayload,
    Action.APPEAL: AppealPayload, Action.ANSWER_APPEAL: AnswerAppealPayload,
    Action.DECIDE_APPEAL: DecideAppealPayload, Action.INTERCEPT: InterceptPayload,
    Action.INTERCEPT_FAILED: InterceptFailedPayload, Action.BOOK_VISIT: BookVisitPayload,
    Action.CANCEL_VISIT: CancelVisitPayload, Action.VISIT_REPAIRED: VisitOutcomePayload,
    Action.VISIT_NEEDS_WORKSHOP: VisitOutcomePayload, Action.VISIT_NOT_REPAIRABLE: VisitOutcomePayload,
})
# Every kind of event the timeline may hold.
KINDS: Mapping[str, type] = types.MappingProxyType({
    **MOVES, Action.SUBMIT: SubmitPayload, FAST_REFUND: PayoutPayload, FURTHER_PAYOUT: PayoutPayload,
    RATE: RatePayload, HIDE_RATING_COMMENT: HideRatingCommentPayload,
    SHOP_NOTICE: ShopNoticePayload, SHOP_NOTICE_DELIVERED: ShopNoticePayload,
})


def _matches(value: object, expected: Any) -> bool:
    origin = get_origin(expected)
    if origin in (Union, types.UnionType):
        return any(_matches(value, option) for option in get_args(expected))
    if origin is list:
        (item,) = get_args(expected)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if expected is type(None):
        return value is None
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def payload_problems(kind: str, payload: object) -> list[str]:
    """What is wrong with a stored payload of `kind` against its declared type (empty: nothing)."""
    declared = KINDS.get(kind)
    if declared is None:
        return [f"unknown event kind {kind!r}"]
    if not isinstance(payload, dict):
        return [f"{kind}: payload is not an object"]
    fields = get_type_hints(declared)
    problems = [f"{kind}: unexpected field {k!r}" for k in payload if k not in fields]
    problems += [f"{kind}: missing field {k!r}" for k in sorted(declared.__required_keys__)  # type: ignore[attr-defined]  # TypedDict classes have it; `type` does not say so
                 if k not in payload]
    problems += [f"{kind}: {k}={payload[k]!r} is not {fields[k]}" for k in payload
                 if k in fields and not _matches(payload[k], fields[k])]
    return problems


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
