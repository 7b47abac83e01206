"""Every string marked for translation, in the templates and the Python code, reads in both languages.

Source strings are Chinese and English lives in `locale/*/en/` (docs/faces.md, "One language at a time"): a
marked Chinese string needs an English translation. A marked English string (Django's admin words that our
templates reuse, "Home", "Log out") needs a Chinese one, from Django's or a package's own catalogue. The strings
are found the way `makemessages` finds them (Python: gettext calls in the syntax tree; templates: Django's
`templatize`), and looked up through Django's translation machinery, so the compiled `.mo` files are checked,
not the `.po` text alone.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "cases", "pickups")
SINGULAR = {"_", "gettext", "gettext_lazy", "gettext_noop"}
CONTEXT = {"pgettext", "pgettext_lazy"}
PLURAL = {"ngettext", "ngettext_lazy"}
CONTEXT_PLURAL = {"npgettext", "npgettext_lazy"}
HAN = re.compile(r"[\u3400-\u9fff]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}|%[sd]")
# the language menu names each language in itself (docs/faces.md): the same in both languages on purpose
SAME_IN_BOTH = {"简体中文", "English"}

Message = tuple[str | None, str, str | None, str]  # (context, msgid, plural, where)


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id == "translation":
        return node.func.attr
    return None


def _from_calls(tree: ast.AST, where: str) -> Iterator[Message]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        args = [_literal(a) for a in node.args]
        if name in SINGULAR and args and args[0] is not None:
            yield None, args[0], None, where
        elif name in CONTEXT and len(args) >= 2 and None not in args[:2]:
            yield args[0], args[1], None, where  # type: ignore[misc]
        elif name in PLURAL and len(args) >= 2 and None not in args[:2]:
            yield None, args[0], args[1], where  # type: ignore[misc]
        elif name in CONTEXT_PLURAL and len(args) >= 3 and None not in args[:3]:
            yield args[0], args[1], args[2], where  # type: ignore[misc]


def python_messages() -> Iterator[Message]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield from _from_calls(ast.parse(path.read_text(encoding="utf-8")), str(path.relative_to(ROOT)))


# templatize turns a template into gettext(...) calls between filler characters, as makemessages does
_CALL = re.compile(r"(?<![\w.])(?:_|gettext|pgettext|ngettext|npgettext)\((?:[^()'\"]|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")*\)")


def template_messages() -> Iterator[Message]:
    for path in sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.txt")):
        where = str(path.relative_to(ROOT))
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for match in _CALL.finditer(code):
            yield from _from_calls(ast.parse(match.group(0), mode="eval"), where)


def _messages() -> dict[tuple[str | None, str, str | None], str]:
    found: dict[tuple[str | None, str, str | None], str] = {}
    for context, msgid, plural, where in [*python_messages(), *template_messages()]:
        if msgid.strip() and (context, msgid, plural) not in found:
            found[(context, msgid, plural)] = where
    return found


MESSAGES = _messages()


def _words(key: tuple[str | None, str, str | None]) -> str:
    return PLACEHOLDER.sub("", key[1])


def _order(key: tuple[str | None, str, str | None]) -> tuple[str, str, str]:
    return key[0] or "", key[1], key[2] or ""


CHINESE = sorted((k for k in MESSAGES if HAN.search(_words(k)) and k[1] not in SAME_IN_BOTH), key=_order)
ENGLISH = sorted((k for k in MESSAGES if not HAN.search(_words(k)) and re.search("[A-Za-z]", _words(k))
                  and k[1] not in SAME_IN_BOTH), key=_order)


def _translated(key: tuple[str | None, str, str | None], language: str) -> list[str]:
    context, msgid, plural = key
    with translation.override(language):
        if plural is None:
            return [translation.pgettext(context, msgid) if context else translation.gettext(msgid)]
        return [translation.npgettext(context, msgid, plural, n) if context else translation.ngettext(msgid, plural, n)
                for n in (1, 2)]


def test_the_extraction_finds_the_strings():
    """The extractor itself: strings known to be marked in Python, in {% translate %} and {% blocktranslate %}."""
    msgids = {msgid for _, msgid, _ in MESSAGES}
    assert len(MESSAGES) > 1200 and ("Home" in {k[1] for k in ENGLISH})  # the admin breadcrumb our templates reuse
    assert {"退款金额", "确认收货", "%(field)s 须为整数"} <= msgids  # python
    assert {"时间线", "上门取件 · %(who)s", "取件单现为“%(state)s”"} <= msgids  # templates
    assert "系统" in msgids  # _("…") inside a template tag's argument


@pytest.mark.parametrize("key", CHINESE,
                         ids=lambda k: k[1][:40])
def test_every_chinese_string_has_english(key):
    sources = [key[1]] if key[2] is None else [key[1], key[2]]
    english = _translated(key, "en")
    assert all(text not in sources for text in english), f"no English for {key!r} ({MESSAGES[key]})"
    assert not any(HAN.search(text) for text in english), f"English for {key!r} still Chinese: {english}"


@pytest.mark.parametrize("key", ENGLISH,
                         ids=lambda k: k[1][:40])
def test_every_english_string_has_chinese(key):
    chinese = _translated(key, "zh-hans")
    assert all(HAN.search(text) for text in chinese), f"no Chinese for {key!r} ({MESSAGES[key]}): {chinese}"
