"""On-site repair visits (上门维修, docs/visits.md): a technician repairs a `repair` case's item at the consumer's
address instead of the item being sent back.

`book_visit` (consumer) moves the case from `awaiting_return` to `awaiting_visit` and books a visit slot (the
pickups app owns couriers, slots and the provider: `pickups/visits.py`); `cancel_visit` (the consumer, or the
system when the `technician_visit` clock runs out) returns it to `awaiting_return`. The technician's outcome
arrives by signed webhook and is the system's action of the same name: `visit_repaired` → `completed`,
`visit_needs_workshop` → `awaiting_return` (the item goes to the workshop, by pickup or by the consumer),
`visit_not_repairable` → `in_repair` (the merchant decides: a refund, or a replacement shipped).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from .. import conditions, hooks
from ..choices import Action, State
from ..models import AfterSalesCase
from .base import CaseError, _run
from .inputs import Id

OUTCOMES = (Action.VISIT_REPAIRED, Action.VISIT_NEEDS_WORKSHOP, Action.VISIT_NOT_REPAIRABLE)


def case_book_visit(*, case_id: int, actor: User, slot: Id = None, now: datetime | None = None) -> AfterSalesCase:
    """Book a technician for one of the open visit slots (`GET /cases/{id}/visit/options/`)."""
    now = now or timezone.now()

    def apply(case: AfterSalesCase, role: str) -> dict:
        refusal = conditions.visit_refusal(case, case.order_item.product.on_site_service)
        if refusal is not None:
            raise CaseError(refusal[0], _("该售后单不提供上门维修：仅限支持上门服务的商品的维修申请"), status=refusal[1])
        visit = hooks.visit_book(case=case, slot_id=slot, now=now)  # the pickups app owns couriers and slots
        case.book_visit()
        return {"visit": visit.pk, "slot": visit.slot_id, "start": visit.slot.start.isoformat(),
                "end": visit.slot.end.isoformat(), "fee": str(visit.fee), "payer": visit.payer}

    return _run(case_id=case_id, actor=actor, action=Action.BOOK_VISIT, apply=apply, now=now)


def case_cancel_visit(*, case_id: int, actor: User | None = None, now: datetime | None = None,
                      expected_state: str | None = None) -> AfterSalesCase:
    """Back to `awaiting_return` (a fresh `consumer_ship` clock); the live visit is cancelled on the way out
    (`pickups.visits.visits_close_for_cases`). By the system: the `technician_visit` clock ran out."""
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.cancel_visit()
        return {} if actor is not None else {"expired": True}

    return _run(case_id=case_id, actor=actor, action=Action.CANCEL_VISIT, apply=apply, now=now,
                expected_state=expected_state or (State.AWAITING_VISIT if actor is None else None))


def case_visit_outcome(*, case_id: int, outcome: str, visit_id: int | None = None, note: str = "",
                       now: datetime | None = None) -> AfterSalesCase:
    """The technician's outcome, applied by the system (the provider's signed webhook)."""
    if outcome not in OUTCOMES:
        raise CaseError("invalid", _("未知的上门维修结果"), field="status")

    def apply(case: AfterSalesCase, role: str) -> dict:
        getattr(case, outcome)()
        payload: dict[str, Any] = {"visit": visit_id}
        if note:
            payload["note"] = note[:255]
        return payload

    return _run(case_id=case_id, actor=None, action=outcome, apply=apply, now=now,
                expected_state=State.AWAITING_VISIT)


def _system_outcome(outcome: str):
    def service(*, case_id: int, actor: User | None = None, now: datetime | None = None,
                expected_state: str | None = None) -> AfterSalesCase:
        # a person asking by name: the role check answers (403, or 404 for a case they may not see)
        if actor is not None:
            return _run(case_id=case_id, actor=actor, action=outcome, apply=lambda c, r: {}, now=now)
        return case_visit_outcome(case_id=case_id, outcome=outcome, now=now)

    return service


case_visit_repaired = _system_outcome(Action.VISIT_REPAIRED)
case_visit_needs_workshop = _system_outcome(Action.VISIT_NEEDS_WORKSHOP)
case_visit_not_repairable = _system_outcome(Action.VISIT_NOT_REPAIRABLE)
