"""One service per action: lock, check, transition, save, audit, side effects after commit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from portal.errors import DomainError
from portal.models import OrderItem, Role, User

from . import policy
from .choices import Action, ActorRole, Kind, Reason, State
from .deadlines import deadline_start
from .models import AfterSalesCase, CaseEvent, CaseMessage, PlatformSetting, Refund
from .notifications import notify_next_party, notify_party, notify_staff
from .permissions import role_may_take, role_of, state_allows
from .refunds import refund_create, wallet_credit

log = logging.getLogger("cases")


class CaseError(DomainError):
    pass


def _case_number(case: AfterSalesCase) -> str:
    return f"AS{policy.local_date(case.created_at):%Y%m%d}{case.pk:06d}"


def event_append(*, case: AfterSalesCase, actor: User | None, role: str, action: str, from_state: str | None,
                 to_state: str, payload: dict[str, Any] | None = None, at: datetime | None = None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, at=at or timezone.now(), actor=actor, actor_username=actor.username if actor else None,
        role=role, action=action, from_state=from_state, to_state=to_state, payload=payload or {},
    )


def _parse_amount(value: Any, field: str = "amount") -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise CaseError("invalid", _("金额格式不正确"), field=field) from exc
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(policy.CENT) or amount >= Decimal("1e10"):
        raise CaseError("invalid", _("金额须为不小于 0 且最多两位小数的数字"), field=field)
    return amount.quantize(policy.CENT)


def _require_text(value: Any, field: str, max_length: int = 2000) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise CaseError("required", _("此项为必填项"), field=field)
    if len(text) > max_length:
        raise CaseError("invalid", _("内容过长"), field=field)
    return text


# --- submission -------------------------------------------------------------------------------

def case_submit(
    *,
    consumer: User,
    order_item_id: int,
    kind: str,
    reason: str,
    quantity: int | None = None,
    amount: Any = None,
    description: str = "",
    condition_intact: bool = False,
    evidence_files: list | None = None,
    now: datetime | None = None,
) -> AfterSalesCase:
    """Open a case after checking eligibility in lifecycle.md's order; evidence is stored with it."""
    from .evidence import evidence_store, evidence_validate

    now = now or timezone.now()
    if kind not in Kind.values:
        raise CaseError("invalid", _("售后类型无效"), field="kind")
    if reason not in Reason.values:
        raise CaseError("invalid", _("售后原因无效"), field="reason")
    files = evidence_validate(evidence_files or [])
    parsed_amount = _parse_amount(amount)
    if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1):
        raise CaseError("invalid", _("数量须为正整数"), field="quantity")
    if not isinstance(description, str) or len(description) > 2000:
        raise CaseError("invalid", _("描述过长"), field="description")
    with transaction.atomic():
        item = (
            OrderItem.objects.select_for_update(of=("self",))
            .select_related("order", "product", "order__shop")
            .filter(pk=order_item_id)
            .first()
        )
        if item is None or item.order.consumer_id != consumer.pk or consumer.role != Role.CONSUMER:
            raise CaseError("not_your_order", _("找不到该订单商品"), field="order_item", status=404)
        ledger = policy.item_ledger(item)
        qty = quantity if quantity is not None else max(item.quantity - ledger.units_used, 1)
        request = policy.Request(kind=kind, reason=reason, quantity=qty, amount=parsed_amount,
                                 condition_intact=bool(condition_intact), evidence_count=len(files))
        refusal = policy.check_eligibility(item, request, now=now, ledger=ledger)
        if refusal:
            raise CaseError(refusal.code, refusal.detail, field=refusal.field, status=refusal.status)
        if kind in (Kind.REFUND_ONLY, Kind.RETURN_REFUND):
            claim = parsed_amount if parsed_amount is not None else policy.claimable(item, qty, ledger)
            if claim <= 0:
                raise CaseError("invalid", _("退款金额须大于 0"), field="amount")
        else:
            claim = policy.ZERO
        case = AfterSalesCase(
            number=f"TMP-{uuid.uuid4().hex[:28]}",  # replaced by the real number once the id is known
            order_item=item, consumer=consumer, shop=item.order.shop, kind=kind, reason=reason,
            quantity=qty, amount=claim, description=description.strip(),
            condition_intact=bool(condition_intact),
            freight_payer=policy.freight_payer(kind, reason, insured=item.order.return_shipping_insurance),
            created_at=now,
        )
        case.save()
        case.number = _case_number(case)
        AfterSalesCase.objects.filter(pk=case.pk).update(number=case.number)
        event_append(case=case, actor=consumer, role=ActorRole.CONSUMER, action=Action.SUBMIT, from_state=None,
                     to_state=case.state, at=now,
                     payload={"kind": kind, "reason": reason, "quantity": qty, "amount": str(claim),
                              "evidence": len(files)})
        evidence_store(case=case, files=files, uploaded_by=consumer, role=ActorRole.CONSUMER)
        deadline_start(case=case, now=now)
        notify_next_party(case=case, action=Action.SUBMIT)
        log.info("case %s: submitted (%s/%s)", case.number, kind, reason, extra={"case": case.number})
    return case


# --- the action runner ------------------------------------------------------------------------

def _run(
    *,
    case_id: int,
    actor: User | None,
    action: str,
    apply: Callable[[AfterSalesCase, str], dict[str, Any] | None],
    expected_state: str | None = None,
    now: datetime | None = None,
    after: Callable[[AfterSalesCase, str, str], None] | None = None,
) -> AfterSalesCase:
    """The one path every action takes. `apply` validates input and calls the transition."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            case = (
                AfterSalesCase.objects.select_for_update(of=("self",))
                .select_related("order_item__order", "order_item__product", "consumer", "shop")
                .filter(pk=case_id)
                .first()
            )
            role = role_of(actor, case) if case is not None else None
            if case is None or role is None:
                raise CaseError("not_found", _("找不到该售后单"), status=404)
            if not role_may_take(role, action):
                raise CaseError("permission_denied", _("您无权执行此操作"), status=403)
            if action == Action.RULE and actor is not None and not actor.has_perm("cases.rule_case"):
                raise CaseError("permission_denied", _("您无权裁决"), status=403)
            if expected_state is not None and case.state != expected_state:
                raise CaseError("invalid_transition", _("售后单状态已变化，请刷新后重试"), status=409)
            if not state_allows(case, action, role):
                raise CaseError(
                    "invalid_transition",
                    _("当前状态（%(state)s）不能执行此操作") % {"state": State(case.state).label},
                    status=409,
                )
            from_state = case.state
            payload = apply(case, role) or {}
            case.save()
            if case.state != from_state or action == Action.REVISE:
                deadline_start(case=case, now=now)
            if case.is_terminal and case.closed_at is None:
                case.closed_at = now
                AfterSalesCase.objects.filter(pk=case.pk).update(closed_at=now)
            event_append(case=case, actor=actor, role=role, action=action, from_state=from_state,
                         to_state=case.state, payload=payload, at=now)
            if after is not None:
                after(case, role, from_state)
            notify_next_party(case=case, action=action)
            log.info("case %s: %s by %s, %s → %s", case.number, action, role, from_state, case.state,
                     extra={"case": case.number})
    except (TransitionNotAllowed, ConcurrentTransition) as exc:
        raise CaseError("invalid_transition", _("售后单状态已变化，请刷新后重试"), status=409) from exc
    except IntegrityError as exc:
        raise CaseError("conflict", _("操作冲突，请重试"), status=409) from exc
    return case


def _mark_merchant_response(case: AfterSalesCase, role: str, now: datetime | None = None) -> None:
    if role == ActorRole.MERCHANT and case.first_response_at is None:
        case.first_response_at = now or timezone.now()


def _refund_now(case: AfterSalesCase, amount: Decimal | None = None) -> None:
    refund_create(case=case, amount=amount if amount is not None else (case.refund_amount or case.amount))


# --- actions -------------------------------------------------------------------------------------

def case_approve(*, case_id: int, actor: User | None, now: datetime | None = None,
                 expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        _mark_merchant_response(case, role, now)
        if role == ActorRole.SYSTEM:
            case.auto_approved = True
        case.approve()
        return {"auto": role == ActorRole.SYSTEM} if role == ActorRole.SYSTEM else {}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if case.state == State.REFUNDED:
            _refund_now(case)

    return _run(case_id=case_id, actor=actor, action=Action.APPROVE, apply=apply, now=now, after=after,
                expected_state=expected_state)


def case_reject(*, case_id: int, actor: User, reason: Any, reason_code: str = "",
                now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = _require_text(reason, "reason")
        _mark_merchant_response(case, role, now)
        case.reject()
        return {"reason": text, **({"reason_code": reason_code} if reason_code else {})}

    return _run(case_id=case_id, actor=actor, action=Action.REJECT, apply=apply, now=now)


def case_revise(*, case_id: int, actor: User, amount: Any = None, reason: Any = None,
                description: Any = None, now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        changes: dict[str, Any] = {}
        new_reason = case.reason
        if reason not in (None, ""):
            if reason not in Reason.values:
                raise CaseError("invalid", _("售后原因无效"), field="reason")
            new_reason = reason
        new_amount = _parse_amount(amount)
        item = case.order_item
        others = item.cases.exclude(pk=case.pk).select_related("refund")
        ledger = policy.item_ledger(item, others)
        if new_reason != case.reason:
            if new_reason not in policy.REASONS_FOR_KIND[case.kind] or (
                new_reason == Reason.NOT_SHIPPED and item.order.shipped_at is not None
            ) or (new_reason == Reason.NOT_RECEIVED and item.order.shipped_at is None):
                raise CaseError("reason_not_applicable", _("该原因不适用于所选的售后类型"), field="reason")
            if new_reason == Reason.NO_REASON and item.product.no_reason_excluded:
                raise CaseError("category_excluded", _("该商品不支持七天无理由退换"), field="reason")
            if new_reason in policy.QUALITY_REASONS | {Reason.DAMAGED_IN_TRANSIT} and not case.evidence.exists():
                raise CaseError("evidence_required", _("请至少上传一张照片作为凭证"), field="evidence")
            changes["reason"] = [case.reason, new_reason]
            case.reason = new_reason
            case.freight_payer = policy.freight_payer(case.kind, new_reason,
                                                      insured=item.order.return_shipping_insurance)
        if new_amount is not None:
            if case.kind in (Kind.EXCHANGE, Kind.REPAIR):
                if new_amount != 0:
                    raise CaseError("amount_not_allowed", _("换货和维修不涉及退款金额"), field="amount")
            else:
                limit = policy.claimable(item, case.quantity, ledger)
                if new_amount > limit:
                    raise CaseError("amount_exceeds_paid", _("退款金额不能超过 ¥%(max)s") % {"max": limit},
                                    field="amount")
                if new_amount <= 0:
                    raise CaseError("invalid", _("退款金额须大于 0"), field="amount")
                changes["amount"] = [str(case.amount), str(new_amount)]
                case.amount = new_amount
        if description not in (None, ""):
            if not isinstance(description, str) or len(description) > 2000:
                raise CaseError("invalid", _("描述过长"), field="description")
            changes["description"] = description.strip()
            case.description = description.strip()
        case.revise()
        return changes

    return _run(case_id=case_id, actor=actor, action=Action.REVISE, apply=apply, now=now)


def case_withdraw(*, case_id: int, actor: User, now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.WITHDRAW, apply=lambda c, r: c.withdraw(), now=now)


def case_expire(*, case_id: int, now: datetime | None = None, expected_state: str | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=None, action=Action.EXPIRE, apply=lambda c, r: c.expire(), now=now,
                expected_state=expected_state)


def case_escalate(*, case_id: int, actor: User | None, statement: Any = "", now: datetime | None = None,
                  expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = statement.strip() if isinstance(statement, str) else ""
        if len(text) > 4000:
            raise CaseError("invalid", _("内容过长"), field="statement")
        case.escalate()
        return {"statement": text} if text else {}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        notify_staff(case=case, kind="escalated", text=f"售后单 {case.number} 申请平台介入")

    return _run(case_id=case_id, actor=actor, action=Action.ESCALATE, apply=apply, now=now, after=after,
                expected_state=expected_state)


def _fast_refund_applies(case: AfterSalesCase) -> bool:
    amount = case.refund_amount if case.refund_amount is not None else case.amount
    return (
        case.refund_on_receipt
        and case.consumer.good_standing
        and amount is not None
        and amount > 0
        and amount <= PlatformSetting.current().fast_refund_limit
    )


def case_ship_return(*, case_id: int, actor: User | None, carrier: Any, tracking_number: Any,
                     now: datetime | None = None, via_pickup: bool = False) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.return_carrier = _require_text(carrier, "carrier", 64)
        case.return_tracking = _require_text(tracking_number, "tracking_number", 64)
        case.ship_return()
        payload = {"carrier": case.return_carrier, "tracking_number": case.return_tracking}
        if via_pickup:
            payload["pickup"] = True
        return payload

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if _fast_refund_applies(case):
            refund_create(case=case, amount=case.refund_amount or case.amount, fast=True)
            event_append(case=case, actor=None, role=ActorRole.SYSTEM, action="fast_refund",
                         from_state=case.state, to_state=case.state,
                         payload={"amount": str(case.refund_amount or case.amount)}, at=now)

    return _run(case_id=case_id, actor=actor, action=Action.SHIP_RETURN, apply=apply, now=now, after=after)


def case_confirm_receipt(*, case_id: int, actor: User | None, now: datetime | None = None,
                         expected_state: str | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        _mark_merchant_response(case, role, now)
        case.confirm_receipt()
        return {"auto": True} if role == ActorRole.SYSTEM else {}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if case.state == State.REFUNDED:
            _refund_now(case)  # no second payout after a fast refund: one Refund per case

    return _run(case_id=case_id, actor=actor, action=Action.CONFIRM_RECEIPT, apply=apply, now=now, after=after,
                expected_state=expected_state)


def case_refuse_receipt(*, case_id: int, actor: User, reason: Any, reason_code: str = "",
                        now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        text = _require_text(reason, "reason")
        case.refuse_receipt()
        return {"reason": text, **({"reason_code": reason_code} if reason_code else {})}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        refund = Refund.objects.filter(case=case).first()
        if refund is not None and refund.fast:
            notify_staff(case=case, kind="fast_refund_refused",
                         text=f"售后单 {case.number} 已极速退款，但商家拒绝收货，请关注")

    return _run(case_id=case_id, actor=actor, action=Action.REFUSE_RECEIPT, apply=apply, now=now, after=after)


def _ship_back(transition: str, carrier: Any, tracking_number: Any) -> Callable[[AfterSalesCase, str], dict]:
    """The merchant sends goods to the consumer (replacement or repaired item) with carrier and tracking."""
    def apply(case: AfterSalesCase, role: str) -> dict:
        case.replacement_carrier = _require_text(carrier, "carrier", 64)
        case.replacement_tracking = _require_text(tracking_number, "tracking_number", 64)
        getattr(case, transition)()
        return {"carrier": case.replacement_carrier, "tracking_number": case.replacement_tracking}

    return apply


def case_ship_replacement(*, case_id: int, actor: User, carrier: Any, tracking_number: Any,
                          now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.SHIP_REPLACEMENT,
                apply=_ship_back("ship_replacement", carrier, tracking_number), now=now)


def case_ship_repaired(*, case_id: int, actor: User, carrier: Any, tracking_number: Any,
                       now: datetime | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.SHIP_REPAIRED,
                apply=_ship_back("ship_repaired", carrier, tracking_number), now=now)


def case_approve_refund(*, case_id: int, actor: User, now: datetime | None = None) -> AfterSalesCase:
    def apply(case: AfterSalesCase, role: str) -> dict:
        others = case.order_item.cases.exclude(pk=case.pk).select_related("refund")
        ledger = policy.item_ledger(case.order_item, others)
        case.refund_amount = policy.claimable(case.order_item, case.quantity, ledger)
        case.approve_refund()
        return {"amount": str(case.refund_amount)}

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        _refund_now(case, case.refund_amount)

    return _run(case_id=case_id, actor=actor, action=Action.APPROVE_REFUND, apply=apply, now=now, after=after)


def case_confirm_completion(*, case_id: int, actor: User | None, now: datetime | None = None,
                            expected_state: str | None = None) -> AfterSalesCase:
    return _run(case_id=case_id, actor=actor, action=Action.CONFIRM_COMPLETION,
                apply=lambda c, r: c.confirm_completion(), now=now, expected_state=expected_state)


def case_intervene(*, case_id: int, actor: User, note: Any = "", now: datetime | None = None) -> AfterSalesCase:
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


def _parse_points(value: Any) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool):
        raise CaseError("invalid", _("补偿积分须为非负整数"), field="compensation_points")
    try:
        points = int(str(value))
    except ValueError as exc:
        raise CaseError("invalid", _("补偿积分须为非负整数"), field="compensation_points") from exc
    if points < 0 or points > 10_000_000:
        raise CaseError("invalid", _("补偿积分须为非负整数"), field="compensation_points")
    return points


def _parse_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        return False
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise CaseError("invalid", _("须为 true 或 false"), field=field)


def case_rule(*, case_id: int, actor: User, decision: Any, rationale: Any, amount: Any = None,
              require_return: Any = False, compensation_points: Any = None,
              now: datetime | None = None) -> AfterSalesCase:
    points_holder: dict[str, int] = {}

    def apply(case: AfterSalesCase, role: str) -> dict:
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
            need_return = _parse_bool(require_return, "require_return")
            case.rule(decision="refund", amount=ruled, require_return=need_return)
            payload.update({"amount": str(ruled), "require_return": need_return})
        else:
            case.rule(decision="reject")
        if points:
            payload["compensation_points"] = points
        return payload

    def after(case: AfterSalesCase, role: str, from_state: str) -> None:
        if case.state == State.REFUNDED:
            _refund_now(case, case.refund_amount)
        points = points_holder.get("points", 0)
        if points:
            wallet_credit(user=case.consumer, key=f"compensation-{case.number}", points=points,
                          reason=f"平台裁决补偿 {case.number}")

    return _run(case_id=case_id, actor=actor, action=Action.RULE, apply=apply, now=now, after=after)


# --- messages (not events) ------------------------------------------------------------------

def message_post(*, case_id: int, author: User, body: Any, internal: Any = False) -> CaseMessage:
    with transaction.atomic():
        case = AfterSalesCase.objects.select_related("shop", "consumer").filter(pk=case_id).first()
        role = role_of(author, case) if case is not None else None
        if case is None or role is None or role == ActorRole.SYSTEM:
            raise CaseError("not_found", _("找不到该售后单"), status=404)
        text = _require_text(body, "body", 5000)
        is_internal = _parse_bool(internal, "internal")
        if is_internal and role != ActorRole.STAFF:
            raise CaseError("permission_denied", _("只有平台客服可以添加内部备注"), status=403)
        if role == ActorRole.STAFF and not is_internal and not case.escalated:
            raise CaseError("invalid_transition", _("平台介入后才能向双方发送消息"), status=409)
        message = CaseMessage.objects.create(case=case, author=author, role=role, body=text, internal=is_internal)
        if not is_internal:
            other = {"consumer": "merchant", "merchant": "consumer", "staff": "both"}[role]
            notify_party(case=case, party=other, kind="message", text=f"售后单 {case.number} 有新消息")
    return message
