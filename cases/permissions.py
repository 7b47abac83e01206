"""Who may see a case and who may take which action (django-fsm does not check this for us)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from portal.auth import SHOP_IDS_MEMO
from portal.models import Role, User

from . import conditions
from .choices import Action, ActorRole
from .lifecycle import ACTIONS, PERSON_ACTIONS, may_take
from .models import AfterSalesCase, Holiday

# The roles that may ever take each action, and the actions a person may ask for (the lifecycle table's).
ACTION_ROLES: dict[str, frozenset[str]] = {name: spec.roles for name, spec in ACTIONS.items()}
USER_ACTIONS = list(PERSON_ACTIONS)


def role_of(user: User | None, case: AfterSalesCase | None = None) -> str | None:
    """The role a user acts in on a case (None: may not see it). `None` user is the system."""
    if user is None:
        return ActorRole.SYSTEM
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_platform_staff:
        return ActorRole.STAFF
    if case is None:
        return user.role
    if user.role == Role.CONSUMER and case.consumer_id == user.pk:
        return ActorRole.CONSUMER
    if user.role == Role.MERCHANT and _member_of(user, case.shop_id):
        return ActorRole.MERCHANT
    return None


def shop_ids_of(user: User) -> set[int]:
    """The shops a merchant belongs to, read once per request."""
    cache: set[int] | None = getattr(user, SHOP_IDS_MEMO, None)
    if cache is None:
        cache = set(user.shops.values_list("id", flat=True))
        setattr(user, SHOP_IDS_MEMO, cache)  # a per-request memo on the user object (Bearer auth fills it)
    return cache


def _member_of(user: User, shop_id: int) -> bool:
    return shop_id in shop_ids_of(user)


def visible_cases(user: User) -> QuerySet[AfterSalesCase]:
    qs = AfterSalesCase.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_platform_staff:
        return qs
    if user.role == Role.MERCHANT:
        # constant shop ids (not a join through memberships) let the queue walk the (shop, deadline) index
        return qs.filter(shop_id__in=sorted(shop_ids_of(user)))
    if user.role == Role.CONSUMER:
        return qs.filter(consumer=user)
    return qs.none()


def visibility(user: User) -> tuple[str, dict[str, Any]]:
    """What `visible_cases(user)` depends on: the user's category and its values (a compiled read's key and
    arguments, portal.sqlcache). Read at every request, like visible_cases itself."""
    if not user.is_authenticated or not user.is_active:
        return "none", {}
    if user.is_platform_staff:
        return "staff", {}
    if user.role == Role.MERCHANT:
        return "merchant", {"shop_ids": sorted(shop_ids_of(user))}
    if user.role == Role.CONSUMER:
        return "consumer", {"user_id": user.pk}
    return "none", {}


def stand_in(who: str, *, shop_ids: list[int] | None = None, user_id: int | None = None) -> User:
    """An unsaved user `visible_cases` treats as one of category `who` (see `visibility`) with these values:
    the compiled reads build their query once with it, then run it for every user of the category."""
    user = User(pk=user_id, is_active=who != "none", is_staff=who == "staff", is_superuser=who == "staff",
                role=Role.MERCHANT if who == "merchant" else Role.CONSUMER)
    if who == "merchant":
        setattr(user, SHOP_IDS_MEMO, set(shop_ids or ()))
    return user


def may_see(user: User, case: AfterSalesCase) -> bool:
    return role_of(user, case) is not None


def role_may_take(role: str, action: str) -> bool:
    return role in ACTION_ROLES.get(action, frozenset())


def state_allows(case: AfterSalesCase | Any, action: str, role: str) -> bool:
    """The table's answer (django-fsm still guards the model: a test keeps the two equal)."""
    return may_take(role, action, case.state)


def available_actions(user: User | None, case: AfterSalesCase | Any) -> list[str]:
    """The actions this user may take on the case now (transitions have no conditions, so the role and
    the state decide: memoised on the user for the length of a request).

    `case` may be a plain row object with `state`, `consumer_id` and `shop_id`.
    """
    role = role_of(user, case)
    if role is None:
        return []
    cache: dict = getattr(user, "_available_actions_cache", None) if user is not None else None  # type: ignore[assignment]  # a per-request cache on the user
    key = (role, case.state)
    if cache is not None and key in cache:  # the role's actions in this state; the case's own conditions still apply
        return _conditions_met(user, role, case, list(cache[key]))
    actions = [a for a in USER_ACTIONS if may_take(role, a, case.state)]
    if role == ActorRole.STAFF and Action.RULE in actions and user is not None and not user.has_perm("cases.rule_case"):
        actions.remove(Action.RULE)
    if user is not None:
        if cache is None:
            cache = {}
            user._available_actions_cache = cache
        cache[key] = tuple(actions)
    return _conditions_met(user, role, case, actions)


def _conditions_met(user: User | None, role: str, case: Any, actions: list[str]) -> list[str]:
    """Drop the conditional actions (the table's `conditional`) whose case data says no: the same checks the
    services make (`cases.conditions`). A plain row lacking a field the check needs keeps the action."""
    if not any(ACTIONS[a].conditional for a in actions):
        return actions
    now = timezone.now()
    kept = []
    for action in actions:
        refusal = None
        if action == Action.APPEAL and hasattr(case, "ruled_state"):
            # the holidays matter only to a case still standing on its ruling (read once per request)
            standing = case.ruled_state and case.ruled_state == case.state and case.appealed_at is None
            refusal = conditions.appeal_refusal(case, now=now, holidays=_holidays(user) if standing else [])
        elif action == Action.ANSWER_APPEAL and hasattr(case, "appeal_role"):
            refusal = conditions.answer_refusal(case, role=role, now=now)
        elif action == Action.DECIDE_APPEAL and hasattr(case, "ruled_by_id"):
            refusal = conditions.decide_refusal(case, user=user)
        elif action == Action.INTERCEPT and hasattr(case, "order_waybill"):
            refusal = conditions.intercept_refusal(case, SimpleNamespace(
                shipped_at=case.order_shipped_at, signed_at=case.order_signed_at, carrier=case.order_carrier,
                waybill=case.order_waybill))
        elif action == Action.INTERCEPT and isinstance(case, AfterSalesCase) and case.order_item_id:
            refusal = conditions.intercept_refusal(case, case.order_item.order)
        elif action == Action.BOOK_VISIT and hasattr(case, "product_on_site_service"):
            refusal = conditions.visit_refusal(case, bool(case.product_on_site_service))
        elif action == Action.BOOK_VISIT and isinstance(case, AfterSalesCase) and case.order_item_id:
            refusal = conditions.visit_refusal(case, case.order_item.product.on_site_service)
        if refusal is None:
            kept.append(action)
    return kept


def _holidays(user: User | None) -> list:
    """The platform holidays, read once per request (memoised on the user)."""
    cached: list | None = getattr(user, "_holidays_cache", None) if user is not None else None
    if cached is None:
        cached = list(Holiday.objects.all())
        if user is not None:
            user._holidays_cache = cached  # type: ignore[attr-defined]  # a per-request cache on the user
    return cached

