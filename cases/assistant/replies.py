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
TEMPLATE_BONUS = 1.0  # the shop's own words first when they fit as well
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


def _bm25(docs: list[list[str]], query: list[str]) -> np.ndarray:
    if not docs or not query or not any(docs):
        return np.zeros(len(docs))
    return BM25Okapi([d or ["∅"] for d in docs]).get_scores(query)


def _entry_bonus(entry: Entry, case: AfterSalesCase, consumer_photos: int) -> float:
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
        bonus += ASK_PHOTOS_BONUS if case.reason in MERCHANT_FAULT_REASONS and consumer_photos == 0 else -10.0
    return bonus


def reply_suggestions(case: AfterSalesCase, *, lang: str) -> list[Suggestion]:
    """At most three replies, best first; knowledge entries in the reader's language."""
    query = case_query(case)
    consumer_photos = sum(1 for e in case.evidence.all() if e.role == "consumer")
    templates = list(ReplyTemplate.objects.filter(shop_id=case.shop_id))
    template_scores = _bm25([text.words(f"{t.title} {t.body}") for t in templates], query)
    candidates = [Suggestion(t.body, f"template:{t.pk}", float(s) + TEMPLATE_BONUS)
                  for t, s in zip(templates, template_scores, strict=True) if s > 0]
    index = model_store.current().index
    kb_scores = index.bm25.get_scores(query) if query else np.zeros(len(index.entries))
    for entry, score in zip(index.entries, kb_scores, strict=True):
        bonus = _entry_bonus(entry, case, consumer_photos)
        if bonus <= 0 and score <= 0:
            continue
        candidates.append(Suggestion(entry.text(lang, "answer"), f"knowledge:{entry.id}", float(score) + bonus))
    candidates.sort(key=lambda s: (-s.score, s.source))
    out: list[Suggestion] = []
    for suggestion in candidates:
        if suggestion.text not in {s.text for s in out}:
            out.append(suggestion)
        if len(out) == MAX_SUGGESTIONS:
            break
    return out
