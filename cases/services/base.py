"""What every case service shares: the runner (lock, check, transition, save, audit), errors, parsing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from portal.models import User

from .. import policy
from ..choices import Action, ActorRole, State
from ..events import event_append
from ..models import AfterSalesCase
from ..permissions import role_may_take, role_of, state_allows
from .apply import Move, moves_apply, snapshot
from .errors import CaseError

__all__ = ["CaseError", "event_append"]

log = logging.getLogger("cases")


def _case_number(case: AfterSalesCase) -> str:
    return f"AS{policy.local_date(case.created_at):%Y%m%d}{case.pk:06d}"


def _parse_amount(value: object, field: str = "amount") -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise CaseError("invalid", _("金额格式不正确"), field=field) from exc
    # the size first: quantize() of a huge value (1e400) raises instead of answering
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10") or amount != amount.quantize(policy.CENT):
        raise CaseError("invalid", _("金额须为不小于 0 且最多两位小数的数字"), field=field)
    return amount.quantize(policy.CENT)


def _require_text(value: object, field: str, max_length: int = 2000) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text:
        raise CaseError("required", _("此项为必填项"), field=field)
    if len(text) > max_length:
        raise CaseError("invalid", _("内容过长"), field=field)
    return text


# --- the action runner: the check half, then the one apply half --------------------------------


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
            before = snapshot(case)
            from_state = case.state
            payload = apply(case, role) or {}
            moves_apply([Move(case=case, action=action, role=role, actor=actor, from_state=from_state,
                              before=before, payload=payload, after=after)], now=now)
    except (TransitionNotAllowed, ConcurrentTransition) as exc:
        raise CaseError("invalid_transition", _("售后单状态已变化，请刷新后重试"), status=409) from exc
    except IntegrityError as exc:
        raise CaseError("conflict", _("操作冲突，请重试"), status=409) from exc
    return case


def _mark_merchant_response(case: AfterSalesCase, role: str, now: datetime | None = None) -> None:
    if role == ActorRole.MERCHANT and case.first_response_at is None:
        case.first_response_at = now or timezone.now()


# --- input parsing shared by the actions ----------------------------------------------------------


def _parse_points(value: object) -> int:
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


def _parse_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        return False
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
        return False
    raise CaseError("invalid", _("须为 true 或 false"), field=field)
