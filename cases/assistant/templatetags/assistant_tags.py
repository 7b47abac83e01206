from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from ..engine import lang_of
from ..replies import reply_suggestions as rank_replies

register = template.Library()


@register.simple_tag
def reply_suggestions(case: Any) -> list[dict[str, str]]:
    """The merchant case page's suggested replies (the same ranking as the API)."""
    return [s.as_dict() for s in rank_replies(case, lang=lang_of(get_language() or ""))]
