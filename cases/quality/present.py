"""How the scorecard is shown on every page (merchant metrics, staff dashboard, staff shop page): one table
built from the API's JSON, so a figure reads the same wherever it appears."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

FIGURES: tuple[tuple[str, Any, Any], ...] = (
    ("dispute_rate", _("纠纷率"), _("裁决退款的售后单 ÷ 付款的订单商品")),
    ("intervention_rate", _("介入率"), _("申请平台介入或平台介入的售后单 ÷ 新建售后单")),
    ("quality_refund_rate", _("品质退款率"), _("质量原因的已到账退款 ÷ 付款的订单商品")),
    ("refund_hours.mean", _("平均退款时长"), _("申请 → 退款到账，小时")),
    ("refund_hours.p90", _("退款时长 P90"), _("最近秩法，小时")),
    ("first_response_hours", _("首次响应时长"), _("申请 → 商家首次处理或留言，小时")),
    ("self_resolved_rate", _("自主完结率"), _("未经平台完结的售后单 ÷ 完结的售后单")),
)


def show(key: str, value: str | None) -> str:
    """A rate as a percentage with 2 places (exactly the 4-place decimal), hours with their unit, — for null."""
    if value is None:
        return "—"
    if key.endswith("_rate"):
        return f"{Decimal(value) * 100:.2f}%"
    return f"{value} h"


@dataclass
class Row:
    key: str
    label: Any
    note: Any
    value: str
    average: str


def _pick(card: dict[str, Any], key: str) -> str | None:
    head, _dot, tail = key.partition(".")
    value = card.get(head)
    return value.get(tail) if tail and isinstance(value, dict) else value


def scorecard_rows(card: dict[str, Any]) -> list[Row]:
    average = card.get("category_average") or {}
    return [Row(key=key, label=label, note=note, value=show(key, _pick(card, key)),
                average=show(key, _pick(average, key))) for key, label, note in FIGURES]
