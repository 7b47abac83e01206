"""Display helpers of the merchant desk: clocks, masking, labels and shares."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Action, ActorRole, DeadlineName, Kind, Reason, State
from portal.masking import mask_phone

from ..selectors import urgency as _urgency

register = template.Library()


@register.filter
def time_left(due_at: datetime | None, now: datetime | None = None) -> str:
    """"3 天 4 小时" / "5 小时 12 分" / "已超时 2 小时"; empty without a clock."""
    if due_at is None:
        return ""
    now = now or timezone.now()
    seconds = int((due_at - now).total_seconds())
    overdue = seconds < 0
    text = duration(abs(seconds))
    return _("已超时 %(t)s") % {"t": text} if overdue else text


@register.filter
def duration(seconds: float | int | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s 天 %(h)s 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s 小时 %(m)s 分") % {"h": hours, "m": minutes}
    return _("%(m)s 分钟") % {"m": max(minutes, 0 if seconds < 60 else 1)}


@register.filter
def urgency(due_at: datetime | None, now: datetime | None = None) -> str:
    return _urgency(due_at, now or timezone.now())


register.filter("mask_phone", mask_phone)  # one masking rule for the pages and the API (portal.masking)


@register.filter
def mask_name(name: str | None) -> str:
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


@register.filter
def mask_line(line: str | None) -> str:
    line = (line or "").strip()
    return (line[:4] + "****") if len(line) > 4 else "****"


@register.filter
def share(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{(value * 100).quantize(Decimal('0.1'))}%"


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


@register.filter
def state_label(value: str) -> str:
    return _label(State, value)


@register.filter
def kind_label(value: str) -> str:
    return _label(Kind, value)


@register.filter
def reason_label(value: str) -> str:
    return _label(Reason, value)


@register.filter
def action_label(value: str) -> str:
    return _label(Action, value)


@register.filter
def deadline_label(value: str) -> str:
    return _label(DeadlineName, value)


@register.filter
def role_label(value: str) -> str:
    return _label(ActorRole, value)


@register.filter
def party_label(value: str) -> str:
    return {"merchant": _("商家"), "consumer": _("买家"), "staff": _("平台")}.get(value, "")


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
