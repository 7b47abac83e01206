"""Replies a shop's member may send on a case, ranked for that case (its reason, evidence and state).

Candidates are the shop's own reply templates and the knowledge base; each is scored by BM25 against
what the case says (description, the shopper's latest message, reason and kind names) plus fixed bonuses
for a matching tag, so the rules are few and visible (docs/assistant.md, "Reply suggestions").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from cases.choices import MERCHANT_FAULT_REASONS, Kind, Reason, State
from cases.merchant.models import ReplyTemplate
from cases.models import AfterSalesCase

from . import model_store, text
from .data import Entry

MAX_SUGGESTIONS = 3
TEMPLATE_FIT = 0.5  # a template scoring at least this share of the best text match comes before entries
REASON_BONUS = 2.0
STATE_BONUS = 2.0
KIND_BONUS = 0.5
MERCHANT_ENTRY_BONUS = 1.5  # entries written as a shop's reply
ASK_PHOTOS = "merchant-ask-photos"
ASK_PHOTOS_BONUS = 4.0  # a quality reason or transit damage with no photo from the shopper yet


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str
    score: float

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "source": self.source}


def case_query(case: AfterSalesCase) -> list[str]:
    last_consumer = next((m.body for m in reversed(list(case.messages.all()))
                          if m.role == "consumer" and not m.internal), "")
    words = " ".join([case.description or "", last_consumer, str(Reason(case.reason).label),
                      str(Kind(case.kind).label), str(State(case.state).label)])
    return text.words(words)


def _bm25_against(index_bm25: BM25Okapi, doc: list[str], query: list[str]) -> float:
    """BM25 of one short document, with the knowledge base's term statistics (a shop's handful of
    templates is too small a corpus for its own IDF: a word in half of two templates weighs zero)."""
    if not doc or not query:
        return 0.0
    rare = max(index_bm25.idf.values()) if index_bm25.idf else 1.0
    k1, b = index_bm25.k1, index_bm25.b
    counts: dict[str, int] = {}
    for token in doc:
        counts[token] = counts.get(token, 0) + 1
    score = 0.0
    for term in query:
        tf = counts.get(term, 0)
        if tf:
            idf = index_bm25.idf.get(term, rare)
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(doc) / index_bm25.avgdl))
    return score


def _entry_bonus(entry: Entry, case: AfterSalesCase, consumer_photos: int) -> float | None:
    """The entry's bonus for this case, or None when it must not be suggested at all."""
    bonus = 0.0
    if case.reason in entry.reasons:
        bonus += REASON_BONUS
    if case.state in entry.states:
        bonus += STATE_BONUS
    if case.kind in entry.kinds:
        bonus += KIND_BONUS
    if entry.audience == "merchant":
        bonus += MERCHANT_ENTRY_BONUS
    if entry.id == ASK_PHOTOS:
        if case.reason not in MERCHANT_FAULT_REASONS or consumer_photos > 0:
            return None  # asking for photos the shopper has already given, or that the reason needs not
        bonus += ASK_PHOTOS_BONUS
    return bonus


def reply_suggestions(case: AfterSalesCase, *, lang: str) -> list[Suggestion]:
    """At most three replies, best first; knowledge entries in the reader's language."""
    index = model_store.current().index
    query = case_query(case)
    consumer_photos = sum(1 for e in case.evidence.all() if e.role == "consumer")
    templates = list(ReplyTemplate.objects.filter(shop_id=case.shop_id))
    template_scores = [_bm25_against(index.bm25, text.words(f"{t.title} {t.body}"), query) for t in templates]
    kb_scores = index.bm25.get_scores(query) if query else np.zeros(len(index.entries))
    best_text = max([*template_scores, *kb_scores.tolist(), 0.0])
    candidates: list[tuple[int, Suggestion]] = []
    for template, score in zip(templates, template_scores, strict=True):
        if score > 0:
            fits = score >= TEMPLATE_FIT * best_text
            candidates.append((0 if fits else 1, Suggestion(template.body, f"template:{template.pk}", score)))
    for entry, score in zip(index.entries, kb_scores, strict=True):
        bonus = _entry_bonus(entry, case, consumer_photos)
        if bonus is None or (bonus <= 0 and score <= 0):
            continue
        candidates.append((1, Suggestion(entry.text(lang, "answer"), f"knowledge:{entry.id}",
                                         float(score) + bonus * max(best_text, 1.0) / 10)))
    candidates.sort(key=lambda c: (c[0], -c[1].score, c[1].source))
    out: list[Suggestion] = []
    for _group, suggestion in candidates:
        if suggestion.text not in {s.text for s in out}:
            out.append(suggestion)
        if len(out) == MAX_SUGGESTIONS:
            break
    return out
