"""Display helpers of the merchant desk: clocks, masking, labels and shares."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
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


# --- the queue's rows --------------------------------------------------------------------------------

_ROW = ('\n  <tr class="urgency-{u}" data-case="{number}">\n'
        '    <td class="sel"><input type="checkbox" name="ids" value="{pk}" aria-label="{select}"></td>\n'
        '    <td class="nowrap number"><a href="{url}" class="mono">{number}</a>{escalated}</td>\n'
        '    <td class="mono nowrap order">{order}</td>\n'
        '    <td class="product">{thumb}{product}<br><span class="muted small">{sku} × {quantity}</span></td>\n'
        '    <td class="kind">{kind}<br class="wide"><span class="muted small"><span class="narrow"> · </span>'
        '{reason}</span></td>\n'
        '    <td class="num money amount">{amount}</td>\n'
        '    <td class="state"><span class="badge state-{state}">{state_label}</span></td>\n'
        '    <td class="nowrap clock-cell">{clock}</td>\n'
        '    <td class="party">{party}</td>\n'
        '    <td class="buyer">{buyer}</td>\n'
        '    <td class="act">{act}</td>\n'
        '  </tr>\n  ')


def _out(value: Any) -> str:
    """A value as `{{ value }}` writes it: localized, then escaped unless already safe."""
    return conditional_escape(localize(value))


class _Memo(dict):
    """A value's output computed once per call (labels and their escaping repeat across the 50 rows)."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.make(key)
        return value


def queue_rows_html(rows: list[tuple[Any, str]], now: datetime) -> SafeString:
    """The queue table's rows, exactly as merchant/_queue_table.html's loop (with its two includes,
    components/product_thumb.html and components/countdown.html) wrote them: 50 rows cost the template
    engine ~1,500 node renders, two template includes each and three `{% url %}` per row. Labels, their
    escaping and the clock's sentences are looked up once per call, not once per row."""
    late, escalated_badge = _out(_("已超时")), _out(_("介入"))
    act_texts = _out(_("处理")), _out(_("查看"))
    select = _("选择 %(n)s")
    url_of = reverse("merchant:case", args=[0])[:-2]  # "/merchant/cases/" + id + "/"
    kinds, reasons = _Memo(lambda v: _out(kind_label(v))), _Memo(lambda v: _out(reason_label(v)))
    states, deadlines = _Memo(lambda v: _out(state_label(v))), _Memo(lambda v: _out(deadline_label(v)))
    parties = _Memo(lambda p: f'<span class="badge party-{_out(p)}">{_out(party_label(p))}</span>' if p else "")
    plain = _Memo(_out)  # short repeated values: urgency, state codes
    clock_text = _clock_texts()
    parts = []
    for case, party in rows:
        due = case.deadline_due_at
        u = _urgency(due, now)
        url = f"{url_of}{case.pk}/"
        product = case.order_item.product
        thumb_cls = "thumb small"
        if product.image:
            thumb = (f'\n<img class="{thumb_cls}" src="{_out(product.image)}" alt="" width="40" height="40" '
                     'loading="lazy" decoding="async" data-thumb>\n')
        else:
            thumb = f'\n<span class="{thumb_cls}" aria-hidden="true">{_out(product.name[:1])}</span>\n'
        if due:
            clock = (f'\n<span class="countdown clock {plain[u]}" data-countdown data-due="{_out(due.isoformat())}"'
                     f' data-expired="{late}">{_out(clock_text(due, now))}</span>\n'
                     f'<br class="wide"><span class="muted small"><span class="narrow"> · </span>'
                     f'{deadlines[case.deadline_name]}</span>')
        else:
            clock = '<span class="muted">—</span>'
        if party == "merchant":
            act = f'<a class="btn small primary" href="{url}#actions">{act_texts[0]}</a>'
        else:
            act = f'<a class="btn small" href="{url}">{act_texts[1]}</a>'
        number = _out(case.number)
        parts.append(_ROW.format(
            u=plain[u], number=number, pk=_out(case.pk), select=select % {"n": number},
            url=url, escalated=f' <span class="badge danger">{escalated_badge}</span>' if case.escalated else "",
            order=_out(case.order_item.order.number), thumb=thumb, product=_out(product.name),
            sku=_out(product.sku), quantity=_out(case.quantity), kind=kinds[case.kind],
            reason=reasons[case.reason],
            amount='<span class="muted">—</span>' if case.kind in ("exchange", "repair") else f"¥{_out(case.amount)}",
            state=plain[case.state], state_label=states[case.state], clock=clock,
            party=parties[party], buyer=_out(case.consumer.username), act=act,
        ))
    return mark_safe("".join(parts))  # noqa: S308  (every value above is escaped by _out)


def _clock_texts() -> Any:
    """`time_left` with its sentences translated once (the active language's), for many rows."""
    days_hours, hours_minutes, minutes_only = _("%(d)s 天 %(h)s 小时"), _("%(h)s 小时 %(m)s 分"), _("%(m)s 分钟")
    overdue_text = _("已超时 %(t)s")

    def text(due_at: datetime, now: datetime) -> str:
        seconds = int((due_at - now).total_seconds())
        left = abs(seconds)
        days, rest = divmod(left, 86400)
        hours, rest = divmod(rest, 3600)
        minutes = rest // 60
        if days:
            out = days_hours % {"d": days, "h": hours}
        elif hours:
            out = hours_minutes % {"h": hours, "m": minutes}
        else:
            out = minutes_only % {"m": max(minutes, 0 if left < 60 else 1)}
        return overdue_text % {"t": out} if seconds < 0 else out

    return text
