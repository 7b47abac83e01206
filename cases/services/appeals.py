"""Second-tier review of a ruling (申诉, docs/appeals.md): `appeal`, `answer_appeal`, `decide_appeal`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import User

from .. import conditions, policy
from ..choices import Action, AppealOutcome, DeadlineName, State
from ..deadlines import active_holidays
from ..evidence import evidence_store, evidence_validate
from ..models import AfterSalesCase, Deadline, PlatformAdvance
from ..notifications import case_params, notify_staff
from ..refunds import wallet_credit
from .base import CaseError, _parse_amount, _parse_bool, _parse_points, _require_text, _run
from .inputs import Amount, EvidenceFiles, Flag, Points, Text
from .money import paid_so_far, refuse_below_paid

_REFUSALS = {
    "already_appealed": _("该裁决已申诉过，每个售后单只能申诉一次"),
    "not_appealable": _("该售后单未经平台裁决，不能申诉"),
    "appeal_window_closed": _("申诉期已过（裁决后 3 天内可申诉）"),
    "invalid_transition": _("当前状态不能申诉"),
    "already_answered": _("已答复过该申诉"),
    "answer_window_closed": _("申诉答复期已过"),
}


def _refuse(refusal: conditions.Refusal, default: str) -> CaseError:
    code, status = refusal
    return CaseError(code, _REFUSALS.get(code, default), status=status)


def _files(evidence_files: EvidenceFiles) -> list[UploadedFile]:
    if not evidence_files:
        return []
    if isinstance(evidence_files, list | tuple):
        return list(evidence_files)
    return [cast(UploadedFile, evidence_files)]


def case_appeal(*, case_id: int, actor: User, statement: Text, evidence_files: EvidenceFiles = None,
                now: datetime | None = None) -> AfterSalesCase:
    """Either party appeals the ruling, once, before the window (3 days from the ruling, paused over
    holidays) closes. The case keeps its ruled outcome visible while under appeal."""
    at = now or timezone.now()
    files = evidence_validate(_files(evidence_files))

    def apply(case: AfterSalesCase, role: str) -> dict:
        holidays = active_holidays(case.ruled_at) if case.ruled_at else []
        refusal = conditions.appeal_refusal(case, now=at, holidays=holidays)
        if refusal is not None:
            raise _refuse(refusal, _("不能申诉"))
        text = _require_text(statement, "statement", 4000)
        due = conditions.appeal_due(case, holidays)
        case.appeal(role=role, at=at)
        return {"statement": text, "window_due_at": due.isoformat() if due else None, "evidence": len(files),
                "ruled_state": case.appeal_from_state}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if files:
            evidence_store(case=case, files=files, uploaded_by=actor, role=role, note=_("申诉凭证"))
        notify_staff(case=case, kind="appealed", params=case_params(case), supervisors_only=True)

    return _run(case_id=case_id, actor=actor, action=Action.APPEAL, apply=apply, now=at, after=after)


def case_answer_appeal(*, case_id: int, actor: User, statement: Text, evidence_files: EvidenceFiles = None,
                       now: datetime | None = None) -> AfterSalesCase:
    """The other party answers, once, while `appeal_answer` runs; the answer readies the case for decision
    and stops the clock."""
    at = now or timezone.now()
    files = evidence_validate(_files(evidence_files))

    def apply(case: AfterSalesCase, role: str) -> dict:
        refusal = conditions.answer_refusal(case, role=role, now=at)
        if refusal is not None:
            if refusal[0] == "permission_denied":
                raise CaseError("permission_denied", _("只有被申诉方可以答复申诉"), status=403)
            raise _refuse(refusal, _("不能答复申诉"))
        text = _require_text(statement, "statement", 4000)
        case.answer_appeal(at=at)
        return {"statement": text, "evidence": len(files)}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        Deadline.objects.filter(case=case, name=DeadlineName.APPEAL_ANSWER, fired_at__isnull=True,
                                cancelled_at__isnull=True).update(cancelled_at=at)
        AfterSalesCase.objects.filter(pk=case.pk).update(deadline_name="", deadline_due_at=None)
        case.deadline_name, case.deadline_due_at = "", None
        if files:
            evidence_store(case=case, files=files, uploaded_by=actor, role=role, note=_("申诉答复凭证"))
        notify_staff(case=case, kind="appeal_ready", params=case_params(case), supervisors_only=True)

    return _run(case_id=case_id, actor=actor, action=Action.ANSWER_APPEAL, apply=apply, now=at, after=after)


def case_decide_appeal(*, case_id: int, actor: User, outcome: Text, rationale: Text, decision: Text = None,
                       amount: Amount = None, require_return: Flag = False, compensation_points: Points = None,
                       now: datetime | None = None) -> AfterSalesCase:
    """A supervisor other than the one who ruled decides: `uphold` returns the case to its ruled state;
    `overturn` applies a new ruling, with money by lifecycle.md (a raised amount pays the difference; a
    decision for the merchant after payment leaves the payout standing as a platform advance)."""
    at = now or timezone.now()
    held: dict[str, Any] = {}

    def apply(case: AfterSalesCase, role: str) -> dict:
        refusal = conditions.decide_refusal(case, user=actor)
        if refusal is not None:
            detail = (_("作出原裁决的人员不能复核该申诉") if actor is not None and case.ruled_by_id == actor.pk
                      else _("只有主管可以复核申诉"))
            raise CaseError("permission_denied", detail, status=403)
        if outcome not in AppealOutcome.values:
            raise CaseError("required" if not outcome else "invalid", _("请选择复核结果：uphold 或 overturn"),
                            field="outcome")
        text = _require_text(rationale, "rationale", 4000)
        payload: dict[str, Any] = {"outcome": outcome, "rationale": text, "ruled_state": case.appeal_from_state}
        held["paid_before"] = paid_so_far(case)
        if outcome == AppealOutcome.UPHOLD:
            case.decide_appeal(outcome=outcome)
        else:
            if decision not in ("refund", "reject"):
                raise CaseError("required" if not decision else "invalid", _("请选择裁决结果：refund 或 reject"),
                                field="decision")
            points = _parse_points(compensation_points)
            held["points"] = points
            payload["decision"] = decision
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
                case.decide_appeal(outcome=outcome, decision="refund", amount=ruled, require_return=need_return)
                payload.update({"amount": str(ruled), "require_return": need_return})
            else:
                case.decide_appeal(outcome=outcome, decision="reject")
                paid = held["paid_before"]
                # what was paid stays paid: the case's refund amount stays what was paid (or none)
                case.refund_amount = paid if paid > 0 else None
                if paid > 0:
                    payload["platform_advance"] = str(paid)
            if points:
                payload["compensation_points"] = points
        case.appeal_decided_by = actor
        case.appeal_decided_at = at
        return payload

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if case.appeal_outcome != AppealOutcome.OVERTURN:
            return
        advanced = PlatformAdvance.objects.filter(case=case).aggregate(total=Sum("amount"))["total"] or Decimal("0")
        if case.state == State.CLOSED:
            paid = paid_so_far(case)
            if paid > advanced:
                PlatformAdvance.objects.get_or_create(
                    key=f"advance-{case.number}-appeal",
                    defaults={"case": case, "amount": paid - advanced, "reason": "appeal_for_merchant_after_payout"})
                notify_staff(case=case, kind="platform_advance", params=case_params(case, amount=paid - advanced))
        elif advanced > 0:
            # the merchant now owes the refund: the platform no longer bears what it advanced
            PlatformAdvance.objects.get_or_create(
                key=f"advance-{case.number}-appeal-reversed",
                defaults={"case": case, "amount": -advanced, "reason": "advance_reversed_on_appeal"})
        points = held.get("points", 0)
        if points:
            wallet_credit(user=case.consumer, key=f"compensation-{case.number}-appeal", points=points,
                          reason=f"申诉复核补偿 {case.number}")

    return _run(case_id=case_id, actor=actor, action=Action.DECIDE_APPEAL, apply=apply, now=at, after=after)
