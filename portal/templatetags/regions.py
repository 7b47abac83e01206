"""`{{ code|region_label }}`: an address's region as names (广东省 深圳市 南山区), never a bare code."""

from __future__ import annotations

from django import template

from portal.models import Region

register = template.Library()


@register.filter
def region_label(code: str) -> str:
    return Region.label_for(code or "")
