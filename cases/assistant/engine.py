"""The assistant's rules (docs/assistant.md states them for people): one question in, one answer out.

`ask` is pure apart from reading the item: the API logs what it returns, and the evaluation command
calls it directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cases.choices import Kind, Reason
from cases.policy import REASONS_FOR_KIND, SHANGHAI
from portal.models import OrderItem

from . import eligibility, model_store
from .data import QUESTION, Entry
from .retrieval import Hit

SUGGEST_THRESHOLD = 0.5  # calibrated probability of the top reason below which nothing is suggested
ANSWER_MIN_MATCHED = 0.5  # share of the question's content words an entry must contain to answer it
ANSWER_MIN_SCORE = 2.0  # BM25 score below which an entry is not an answer
SOURCE_RELATIVE = 0.6  # further sources must score at least this share of the best one
MAX_SOURCES = 3
HUMAN = re.compile(r"转人工|人工客服|人工服务|找人工|真人|投诉|human|agent|real person|representative|talk to (a )?person",
                   re.IGNORECASE)
REASON_ENTRY: dict[str, str] = {
    Reason.NO_REASON: "reason-no-reason", Reason.QUALITY_ISSUE: "reason-quality",
    Reason.NOT_AS_DESCRIBED: "reason-not-as-described", Reason.WRONG_ITEM: "reason-wrong-item",
    Reason.MISSING_PARTS: "reason-missing-parts", Reason.DAMAGED_IN_TRANSIT: "reason-damaged-transit",
    Reason.NOT_RECEIVED: "reason-not-received", Reason.NOT_SHIPPED: "reason-not-shipped",
    Reason.OTHER: "reason-other",
}
ITEM_SOURCE_ID = "item-eligibility"


@dataclass
class Answer:
    answer: str
    sources: list[dict[str, str]]
    suggestion: dict[str, str] | None
    confidence: float
    handoff: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "sources": self.sources, "suggestion": self.suggestion,
                "confidence": round(self.confidence, 4), "handoff": self.handoff, **self.extra}


@dataclass(frozen=True)
class Classified:
    reason: str | None  # None: a question, or not sure enough
    kind: str | None
    confidence: float
    top: str  # the top class, `question` included
    top_probability: float


def lang_of(language: str) -> str:
    return "en" if (language or "").lower().startswith("en") else "zh"


def _when(moment: datetime, lang: str) -> str:
    """A moment in Beijing time; the year only when it is not this year."""
    local = timezone.localtime(moment, SHANGHAI)
    other_year = local.year != timezone.localtime(timezone.now(), SHANGHAI).year
    if lang == "en":
        return local.strftime("%b %-d %Y, %H:%M" if other_year else "%b %-d, %H:%M")
    return f"{local.year}年" * other_year + f"{local.month}月{local.day}日 {local:%H:%M}"


def classify(question: str, *, allowed: list[tuple[str, str]] | None = None) -> Classified:
    """The suggested (kind, reason): the best valid pair by P(reason)·P(kind), `allowed` pairs only.

    A reason is suggested only when it is the top class (not `question`) with calibrated probability
    ≥ SUGGEST_THRESHOLD; the kind is then the likeliest kind that reason admits.
    """
    models = model_store.current()
    p_reason = models.reason.proba(question)
    p_kind = models.kind.proba(question)
    top_i = int(p_reason.argmax())
    top = models.reason.classes[top_i]
    top_p = float(p_reason[top_i])
    if top == QUESTION or top_p < SUGGEST_THRESHOLD:
        return Classified(None, None, 0.0, top, top_p)
    pairs = allowed if allowed is not None else [(k, r) for k, rs in REASONS_FOR_KIND.items() for r in rs]
    kinds = [k for k, r in pairs if r == top]
    if not kinds:
        return Classified(None, None, 0.0, top, top_p)
    kind = max(kinds, key=lambda k: float(p_kind[models.kind.classes.index(k)]))
    return Classified(top, kind, top_p, top, top_p)


def _source(entry: Entry, lang: str) -> dict[str, str]:
    return {"id": entry.id, "title": entry.text(lang, "title")}


def _answered(hits: list[Hit]) -> bool:
    return bool(hits) and hits[0].score >= ANSWER_MIN_SCORE and hits[0].matched >= ANSWER_MIN_MATCHED


def apply_url(item_id: int, kind: str, reason: str, description: str) -> str:
    query = urlencode({"kind": kind, "reason": reason, "description": description[:2000]})
    return reverse("web:case_new", args=[item_id]) + "?" + query


def _item_lines(item: OrderItem, facts: eligibility.ItemFacts, focus_reasons: list[str],
                focus_kinds: list[str], lang: str) -> list[str]:
    """Sentences about this item: what is open now (and until when), what is not and why."""
    lines: list[str] = []
    name = item.product.name
    for reason in focus_reasons:
        label = str(Reason(reason).label)
        kinds = facts.open_kinds(reason)
        if kinds:
            parts = []
            for kind in kinds:
                until = eligibility.open_until(item, kind, reason, facts)
                klabel = str(Kind(kind).label)
                parts.append(_("%(kind)s（可申请至 %(until)s）") % {"kind": klabel, "until": _when(until, lang)}
                             if until else klabel)
            lines.append(_("您的“%(name)s”现在可以按“%(reason)s”申请：%(kinds)s。")
                         % {"name": name, "reason": label, "kinds": _("、").join(parts)})
        else:
            details = list(dict.fromkeys(r["detail"] for r in facts.refusals(reason)))
            if details:
                lines.append(_("您的“%(name)s”现在不能按“%(reason)s”申请：%(why)s。")
                             % {"name": name, "reason": label, "why": _("；").join(details)})
    if Kind.REPAIR in focus_kinds:
        end = eligibility.warranty_end(item, facts)
        if end:
            lines.append(_("“%(name)s”的保修到 %(until)s。") % {"name": name, "until": _when(end, lang)})
        else:
            details = list(dict.fromkeys(
                r["detail"] for o in facts.options if o.kind == Kind.REPAIR for r in o.refused))
            lines.append(_("“%(name)s”现在不能申请维修：%(why)s。")
                         % {"name": name, "why": _("；").join(details) or _("没有可用的原因")})
    if not lines:
        open_kinds = [str(Kind(o.kind).label) for o in facts.options if o.open]
        if open_kinds:
            lines.append(_("您的“%(name)s”现在可以申请：%(kinds)s。在申请页面会列出每种售后可选的原因。")
                         % {"name": name, "kinds": _("、").join(open_kinds)})
        else:
            details = list(dict.fromkeys(r["detail"] for o in facts.options for r in o.refused))
            lines.append(_("您的“%(name)s”现在不能申请售后：%(why)s。")
                         % {"name": name, "why": _("；").join(details[:3]) or _("没有可用的售后")})
    return lines


def ask(question: str, *, language: str, item: OrderItem | None = None, now: datetime | None = None) -> Answer:
    """Answer one question (and, with an item, about that item) in `language`."""
    lang = lang_of(language)
    with translation.override("en" if lang == "en" else "zh-hans"):
        return _ask(question.strip(), lang=lang, item=item, now=now or timezone.now())


def _ask(question: str, *, lang: str, item: OrderItem | None, now: datetime) -> Answer:
    models = model_store.current()
    entries = {e.id: e for e in models.index.entries}
    hits = models.index.search(question, limit=MAX_SOURCES)
    facts = eligibility.item_facts(item, now=now) if item is not None else None
    if HUMAN.search(question):
        entry = entries["human-agent"]
        return Answer(answer=entry.text(lang, "answer"), sources=[_source(entry, lang)], suggestion=None,
                      confidence=0.0, handoff=True)

    allowed = facts.open_pairs() if facts is not None else None
    free = classify(question)
    chosen = classify(question, allowed=allowed) if facts is not None else free
    paragraphs: list[str] = []
    sources: list[dict[str, str]] = []
    extra: dict[str, Any] = {}
    suggestion = None
    if chosen.reason and chosen.kind:
        suggestion = {"kind": str(chosen.kind), "reason": str(chosen.reason)}
        extra["suggestion_label"] = f"{Kind(chosen.kind).label} · {Reason(chosen.reason).label}"
        paragraphs.append(_("听起来是“%(reason)s”，建议申请“%(kind)s”。")
                          % {"reason": Reason(chosen.reason).label, "kind": Kind(chosen.kind).label})
        if item is not None:
            extra["apply_url"] = apply_url(item.pk, chosen.kind, chosen.reason, question)
    elif free.reason and facts is not None:
        paragraphs.append(_("听起来是“%(reason)s”。") % {"reason": Reason(free.reason).label})
    complaint_reason = chosen.reason or free.reason
    if complaint_reason:
        entry = entries[REASON_ENTRY[complaint_reason]]
        paragraphs.append(entry.text(lang, "answer"))
        sources.append(_source(entry, lang))
    elif _answered(hits):
        paragraphs.append(hits[0].entry.text(lang, "answer"))
    if _answered(hits) or complaint_reason:
        best = hits[0].score if hits else 0.0
        for hit in hits:
            if len(sources) < MAX_SOURCES and _answered([hit]) and hit.score >= best * SOURCE_RELATIVE and \
                    hit.entry.id not in {s["id"] for s in sources}:
                sources.append(_source(hit.entry, lang))

    if facts is not None and item is not None:
        focus_reasons = [complaint_reason] if complaint_reason else []
        focus_kinds: list[str] = []
        if not complaint_reason and _answered(hits):
            top = hits[0].entry
            focus_reasons = [r for r in top.reasons[:1]]
            focus_kinds = [k for k in top.kinds if k == Kind.REPAIR]
        paragraphs.extend(_item_lines(item, facts, focus_reasons, focus_kinds, lang))
        sources.append({"id": ITEM_SOURCE_ID, "title": _("这件商品的售后资格")})

    answered = bool(suggestion) or bool(complaint_reason) or _answered(hits)
    if not answered:
        item_part = paragraphs if facts is not None else []
        paragraphs = [_("抱歉，这个问题我还回答不好。您可以换个说法，或点击“转人工”联系客服。"), *item_part]
        sources = [s for s in sources if s["id"] == ITEM_SOURCE_ID]
    return Answer(answer="\n".join(str(p) for p in paragraphs), sources=sources[:MAX_SOURCES + 1],
                  suggestion=suggestion, confidence=chosen.confidence if suggestion else 0.0,
                  handoff=not answered, extra=extra)
