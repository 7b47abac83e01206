"""BM25 retrieval over the knowledge base (rank-bm25 over jieba segments, both languages in one index)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from . import text
from .data import Entry


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    matched: float  # share of the question's content words found in the entry


def document_tokens(entry: Entry) -> list[str]:
    """Title twice, the example questions, then the answer: what a shopper's words should meet."""
    parts = []
    for lang in ("zh", "en"):
        parts += [entry.title[lang], entry.title[lang], *entry.questions[lang], entry.answer[lang]]
    return text.words(" ".join(parts))


class KnowledgeIndex:
    def __init__(self, entries: tuple[Entry, ...], tokens: list[list[str]] | None = None) -> None:
        self.entries = entries
        self.tokens = tokens if tokens is not None else [document_tokens(e) for e in entries]
        self.vocab = [set(t) for t in self.tokens]
        self.bm25 = BM25Okapi(self.tokens)

    def search(self, question: str, *, limit: int = 3, audience: str = "all") -> list[Hit]:
        """The best entries for the question, best first (merchant-only entries only when asked for)."""
        query = text.words(question)
        if not query:
            return []
        scores = self.bm25.get_scores(query)
        order = np.argsort(-scores, kind="stable")
        hits: list[Hit] = []
        for i in order:
            entry = self.entries[int(i)]
            if scores[i] <= 0:
                break
            if audience == "all" and entry.audience != "all":
                continue
            matched = sum(1 for t in query if t in self.vocab[int(i)]) / len(query)
            hits.append(Hit(entry=entry, score=float(scores[i]), matched=matched))
            if len(hits) >= limit:
                break
        return hits
