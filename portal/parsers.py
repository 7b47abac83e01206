"""Request parsers that refuse NUL characters in text (400 `parse_error`): PostgreSQL cannot store them, and no
honest client sends them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

NUL = "\x00"


class NulRefused(ParseError):
    """Our own parse error: its sentence is kept (DRF's own parse errors quote the parser's English)."""


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if NUL in current:
                return True
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
    return False


def _refuse_nul(data: Any) -> Any:
    values = [data]
    if hasattr(data, "lists"):  # a QueryDict: every value of every key
        values = [list(data.lists())]
    if _has_nul(values):
        raise NulRefused(_("文本中不能含有 NUL 字符"))
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _refuse_nul(super().parse(stream, media_type, parser_context))


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _refuse_nul(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        _refuse_nul(result.data)
        return result
