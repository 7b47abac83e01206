"""The pages' rows built in Python (B1 `/merchant/`, B4 `/cases/<id>/`, issue #26) write exactly what the
template loops they replaced wrote: the old loops are kept here and rendered side by side with the new
builders, in both languages, over the branches (image or initial, clock or none, escalated, exchange,
overdue, each party) and with text that must be escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe

from cases.merchant.templatetags.merchant_tags import queue_rows_html
from cases.web.presenters import TimelineEntry, timeline_html

NOW = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)

# merchant/_queue_table.html's loop before issue #26 (verbatim)
OLD_ROWS = """{% load i18n merchant_tags %}{% for case, party in rows %}{% with u=case.deadline_due_at|urgency:now %}
  <tr class="urgency-{{ u }}" data-case="{{ case.number }}">
    <td class="sel"><input type="checkbox" name="ids" value="{{ case.pk }}" aria-label="{% blocktrans with n=case.number %}选择 {{ n }}{% endblocktrans %}"></td>
    <td class="nowrap number"><a href="{% url 'merchant:case' case.pk %}" class="mono">{{ case.number }}</a>{% if case.escalated %} <span class="badge danger">{% trans "介入" %}</span>{% endif %}</td>
    <td class="mono nowrap order">{{ case.order_item.order.number }}</td>
    <td class="product">{% include "components/product_thumb.html" with product=case.order_item.product small=True %}{{ case.order_item.product.name }}<br><span class="muted small">{{ case.order_item.product.sku }} × {{ case.quantity }}</span></td>
    <td class="kind">{{ case.kind|kind_label }}<br class="wide"><span class="muted small"><span class="narrow"> · </span>{{ case.reason|reason_label }}</span></td>
    <td class="num money amount">{% if case.kind == 'exchange' or case.kind == 'repair' %}<span class="muted">—</span>{% else %}¥{{ case.amount }}{% endif %}</td>
    <td class="state"><span class="badge state-{{ case.state }}">{{ case.state|state_label }}</span></td>
    <td class="nowrap clock-cell">{% if case.deadline_due_at %}{% trans "已超时" as late %}{% include "components/countdown.html" with due=case.deadline_due_at text=case.deadline_due_at|time_left:now cls="clock "|add:u expired=late %}<br class="wide"><span class="muted small"><span class="narrow"> · </span>{{ case.deadline_name|deadline_label }}</span>{% else %}<span class="muted">—</span>{% endif %}</td>
    <td class="party">{% if party %}<span class="badge party-{{ party }}">{{ party|party_label }}</span>{% endif %}</td>
    <td class="buyer">{{ case.consumer.username }}</td>
    <td class="act">{% if party == "merchant" %}<a class="btn small primary" href="{% url 'merchant:case' case.pk %}#actions">{% trans "处理" %}</a>{% else %}<a class="btn small" href="{% url 'merchant:case' case.pk %}">{% trans "查看" %}</a>{% endif %}</td>
  </tr>{% endwith %}
  {% endfor %}"""

# web/case.html's timeline loop before issue #26 (verbatim)
OLD_TIMELINE = """{% for e in timeline %}
      <li>
        <div class="when"><time datetime="{{ e.at.isoformat }}">{{ e.when }}</time> · {{ e.who }}</div>
        <div class="what">{{ e.label }}{% if e.state %} <span class="badge">{{ e.state }}</span>{% endif %}</div>
        {% if e.detail %}<div class="detail">{{ e.detail }}</div>{% endif %}
      </li>
      {% endfor %}"""


def _case(i: int, **kw: Any) -> SimpleNamespace:
    product = SimpleNamespace(name=kw.pop("name", f"商品 {i}"), sku=f"SKU-{i}", image=kw.pop("image", ""))
    fields = {"pk": i, "number": f"AS2026{i:04d}", "escalated": False, "kind": "return_refund", "reason": "other",
              "amount": Decimal("1234.50"), "quantity": 2, "state": "pending_merchant",
              "deadline_due_at": NOW + timedelta(hours=30), "deadline_name": "merchant_response",
              "order_item": SimpleNamespace(order=SimpleNamespace(number=f"O-{i}"), product=product),
              "consumer": SimpleNamespace(username=f"user{i}")}
    fields.update(kw)
    return SimpleNamespace(**fields)


ROWS = [
    (_case(1), "merchant"),
    (_case(2, image="https://img.example/a.png?x=1&y=\"2\"", escalated=True), "consumer"),
    (_case(3, kind="exchange", deadline_due_at=None, deadline_name="", name="<b>Tom & Jerry's</b>"), ""),
    (_case(4, deadline_due_at=NOW - timedelta(hours=3), state="awaiting_return", reason="quality"), "merchant"),
    (_case(5, kind="repair", deadline_due_at=NOW + timedelta(hours=5), state="in_repair"), "staff"),
    (_case(6, deadline_due_at=NOW + timedelta(minutes=20), state="nonsense", kind="unknown"), "merchant"),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_queue_rows_are_what_the_template_wrote(language: str) -> None:
    with translation.override(language):
        old = engines["django"].from_string(OLD_ROWS).render({"rows": ROWS, "now": NOW})
        new = str(queue_rows_html(ROWS, NOW))
    assert new == old
    assert "&lt;b&gt;Tom &amp; Jerry&#x27;s&lt;/b&gt;" in new and "<b>" not in new


ENTRIES = [
    TimelineEntry(at=NOW - timedelta(days=2), who="买家", label="提交申请", state="待商家处理", detail=""),
    TimelineEntry(at=NOW - timedelta(days=1), who="商家 bob<script>", label="同意", state="",
                  detail="reason: <i>\"broken\" & 'bent'</i>"),
    TimelineEntry(at=NOW, who="平台", label="裁决", state="已退款", detail=mark_safe("<b>safe</b>")),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_timeline_is_what_the_template_wrote(language: str) -> None:
    with translation.override(language):
        old = engines["django"].from_string(OLD_TIMELINE).render({"timeline": ENTRIES})
        new = str(timeline_html(ENTRIES))
    assert new == old
    assert "bob&lt;script&gt;" in new and "<b>safe</b>" in new
