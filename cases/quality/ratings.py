"""售后服务评价: the consumer rates a terminal case once, within 15 × 24 h of it last becoming terminal
(api.md "Ratings, scorecards and the assistant"; lifecycle.md "Added 2026-12-02")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pickups.models import PickupState
from portal.models import User

from .. import events
from ..choices import TERMINAL_STATES, ActorRole
from ..events import event_append
from ..models import AfterSalesCase, CaseEvent
from ..permissions import role_of
from ..services.errors import CaseError
from .models import RATING_TAGS, CaseRating

RATING_WINDOW = timedelta(days=15)
COMMENT_MAX = 500
HIDE_REASON_MAX = 500
RATE = events.RATE
HIDE_RATING_COMMENT = events.HIDE_RATING_COMMENT
# A case "used a pickup" when a courier took its parcel (api.md: `pickup_stars` only then).
USED_PICKUP_STATES = (PickupState.PICKED_UP, PickupState.IN_TRANSIT, PickupState.DELIVERED)


def terminal_since(case: AfterSalesCase) -> datetime | None:
    """When the case last became terminal: the newest event that moved it from a non-terminal state (or from
    nothing) into a terminal one; `closed_at` for a case with no such event recorded."""
    last = CaseEvent.objects.filter(case=case, to_state__in=TERMINAL_STATES).filter(
        Q(from_state__isnull=True) | ~Q(from_state__in=TERMINAL_STATES)).aggregate(at=Max("at"))["at"]
    return last or case.closed_at


def _stars(value: Any, field: str) -> int:
    """A JSON integer from 1 to 5 (the API reads a form's digits as one first): `"5"` or `true` is invalid."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise CaseError("invalid", _("评分须为 1 到 5 的整数"), field=field)
    return value


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple) or any(not isinstance(t, str) or t not in RATING_TAGS for t in value):
        raise CaseError("invalid", _("评价标签无效"), field="tags")
    return list(dict.fromkeys(value))


def _comment(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CaseError("invalid", _("评价内容须为文字"), field="comment")
    if len(value) > COMMENT_MAX:
        raise CaseError("invalid", _("评价内容不能超过 500 字"), field="comment")
    return value.strip()


def case_used_pickup(case: AfterSalesCase) -> bool:
    return case.pickups.filter(state__in=USED_PICKUP_STATES).exists()


def rating_submit(*, case_id: int, consumer: User, stars: Any, tags: Any = None, comment: Any = None,
                  pickup_stars: Any = None, now: datetime | None = None) -> CaseRating:
    """Rate a case: 404 when the user may not see it, 403 for a merchant or staff, then `not_rateable`,
    `already_rated`, `rating_window_closed`, then the fields (`invalid` with `field`)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = AfterSalesCase.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
        role = role_of(consumer, case) if case is not None else None
        if case is None or role is None:
            raise CaseError("not_found", _("找不到该售后单"), status=404)
        if role != ActorRole.CONSUMER:
            raise CaseError("permission_denied", _("只有买家可以评价售后服务"), status=403)
        if case.state not in TERMINAL_STATES:
            raise CaseError("not_rateable", _("售后单完结后才能评价"))
        if CaseRating.objects.filter(case=case).exists():
            raise CaseError("already_rated", _("该售后单已评价"))
        since = terminal_since(case)
        if since is None or now > since + RATING_WINDOW:
            raise CaseError("rating_window_closed", _("评价期限（售后完结后 15 天）已过"))
        rating = CaseRating(case=case, shop_id=case.shop_id, consumer=consumer, stars=_stars(stars, "stars"),
                            tags=_tags(tags), comment=_comment(comment), created_at=now)
        if pickup_stars is not None:
            if not case_used_pickup(case):
                raise CaseError("invalid", _("该售后单未使用上门取件"), field="pickup_stars")
            rating.pickup_stars = _stars(pickup_stars, "pickup_stars")
        rating.save()
        event_append(case=case, actor=consumer, role=ActorRole.CONSUMER, action=RATE, from_state=case.state,
                     to_state=case.state, at=now,
                     payload={"stars": rating.stars, "tags": rating.tags, "pickup_stars": rating.pickup_stars})
    return rating


def rating_hide_comment(*, case_id: int, staff: User, reason: Any, now: datetime | None = None) -> CaseRating:
    """Staff hide an abusive comment: the rating still counts; the case's timeline records who and why."""
    now = now or timezone.now()
    with transaction.atomic():
        case = AfterSalesCase.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
        role = role_of(staff, case) if case is not None else None
        if case is None or role is None:
            raise CaseError("not_found", _("找不到该售后单"), status=404)
        if role != ActorRole.STAFF:
            raise CaseError("permission_denied", _("只有平台客服可以隐藏评价内容"), status=403)
        rating = CaseRating.objects.select_for_update().filter(case=case).first()
        if rating is None:
            raise CaseError("not_found", _("该售后单尚无评价"), status=404)
        if reason is not None and not isinstance(reason, str):
            raise CaseError("invalid", _("内容须为文字"), field="reason")
        if reason is not None and len(reason) > HIDE_REASON_MAX:
            raise CaseError("invalid", _("内容过长"), field="reason")
        text = (reason or "").strip()
        if not text:
            raise CaseError("required", _("此项为必填项"), field="reason")
        if not rating.comment_hidden:
            rating.comment_hidden, rating.hidden_by, rating.hidden_at = True, staff, now
            rating.save(update_fields=["comment_hidden", "hidden_by", "hidden_at"])
            event_append(case=case, actor=staff, role=ActorRole.STAFF, action=HIDE_RATING_COMMENT,
                         from_state=case.state, to_state=case.state, at=now, payload={"reason": text})
    return rating


def rating_json(*, stars: int, tags: list[str], comment: str, at: datetime, pickup_stars: int | None,
                hidden: bool) -> dict[str, Any]:
    """api.md's rating object; a hidden comment shows as null with `comment_hidden: true`."""
    return {"stars": stars, "tags": list(tags or []), "comment": None if hidden else comment,
            "comment_hidden": hidden, "pickup_stars": pickup_stars, "at": at.isoformat()}


def rating_dict(rating: CaseRating) -> dict[str, Any]:
    return rating_json(stars=rating.stars, tags=rating.tags, comment=rating.comment, at=rating.created_at,
                       pickup_stars=rating.pickup_stars, hidden=rating.comment_hidden)
