"""Platform staff: intervention, the end of the evidence period, the ruling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from .. import policy
from ..choices import Action, State
from ..models import AfterSalesCase, CaseEvent, PlatformAdvance
from ..notifications import case_params, notify_staff
from ..refunds import wallet_credit
from .base import (
    CaseError,
    _parse_amount,
    _parse_bool,
    _parse_points,
    _require_text,
    _run,
)
from .inputs import Amount, Flag, Points, Text
from .money import paid_so_far, refuse_below_paid


def case_intervene(*, case_id: int, actor: User, note: Text = "", now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.intervene()
        if case.assignee_id is None and actor is not None:
            case.assignee = actor
        text = note.strip() if isinstance(note, str) else ""
        return {"note": text} if text else {}

    return _run(case_id=case_id, actor=actor, action=Action.INTERVENE, apply=apply, now=now)


def case_close_evidence(*, case_id: int, actor: User | None, now: datetime | None = None,
                        expected_state: str | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.CLOSE_EVIDENCE, apply=lambda c, r: c.close_evidence(),
                now=now, expected_state=expected_state)


def case_rule(*, case_id: int, actor: User, decision: Text, rationale: Text, amount: Amount = None,
              require_return: Flag = False, compensation_points: Points = None,
              now: datetime | None = None) -> AfterSalesCase:
    """The platform's ruling. Money follows lifecycle.md: what is paid becomes the ruled amount (a further
    payout for a raised one, `amount_below_paid` below what was paid); a ruling for the merchant after the
    consumer was paid leaves the payout standing as a platform advance. Compensation once per ruling."""
    points_holder: dict[str, int] = {}
    at = now or timezone.now()

    def apply(case: AfterSalesCase, role: str) -> dict:
        case.ruled_by = actor
        case.ruled_at = at
        if decision not in ("refund", "reject"):
            raise CaseError("required" if not decision else "invalid", _("请选择裁决结果：refund 或 reject"),
                            field="decision")
        text = _require_text(rationale, "rationale", 4000)
        points = _parse_points(compensation_points)
        points_holder["points"] = points
        payload: dict[str, Any] = {"decision": decision, "rationale": text}
        if decision == "refund":
            ruled = _parse_amount(amount)
            if ruled is None:
                raise CaseError("required", _("请填写退款金额"), field="amount")
            others = case.order_item.cases.exclude(pk=case.pk).select_related("refund")
            limit = policy.claimable(case.order_item, case.quantity, policy.item_ledger(case.order_item, others))
            if ruled > limit:
                raise CaseError("amount_exceeds_paid", _("退款金额不能超过 ¥%(max)s") % {"max": limit},
                                field="amount")
            if ruled <= 0:
                raise CaseError("invalid", _("退款金额须大于 0"), field="amount")
            refuse_below_paid(case, ruled)
            need_return = _parse_bool(require_return, "require_return")
            case.rule(decision="refund", amount=ruled, require_return=need_return)
            payload.update({"amount": str(ruled), "require_return": need_return})
        else:
            case.rule(decision="reject")
        if points:
            payload["compensation_points"] = points
        return payload

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        ruling = CaseEvent.objects.filter(case=case, action=Action.RULE).count()  # this one included
        suffix = "" if ruling <= 1 else f"-{ruling}"
        if case.state == State.CLOSED:
            paid = paid_so_far(case)
            if paid > 0:
                PlatformAdvance.objects.get_or_create(
                    key=f"advance-{case.number}{suffix}",
                    defaults={"case": case, "amount": paid, "reason": "ruled_for_merchant_after_payout"})
                notify_staff(case=case, kind="platform_advance", params=case_params(case, amount=paid))
        points = points_holder.get("points", 0)
        if points:
            wallet_credit(user=case.consumer, key=f"compensation-{case.number}{suffix}", points=points,
                          reason=f"平台裁决补偿 {case.number}")

    return _run(case_id=case_id, actor=actor, action=Action.RULE, apply=apply, now=at, after=after)
