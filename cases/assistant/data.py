"""The shipped data: the knowledge base and the labelled sets, read from `data/` (never from the network)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
KNOWLEDGE_FILE = DATA_DIR / "knowledge.toml"
TRAIN_FILE = DATA_DIR / "complaints_train.txt"
TEST_FILE = DATA_DIR / "complaints_test.txt"
POLICY_QUESTIONS_FILE = DATA_DIR / "policy_questions.txt"
CHITCHAT_FILE = DATA_DIR / "chitchat.txt"
# The classifier's "this is a question, not a complaint" class.
QUESTION = "question"
_ASKS = re.compile(r"[?？吗么呢]|怎|如何|多久|多少|几天|哪|谁|能不能|可不可以|是什么|什么时候|要不要|"
                   r"^(how|what|when|why|can|do|does|is|who|where|which)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    id: str
    title: dict[str, str]
    answer: dict[str, str]
    questions: dict[str, tuple[str, ...]]
    reasons: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    audience: str = "all"  # "all" or "merchant" (a reply a shop may send; never shown to shoppers)

    def text(self, lang: str, part: str) -> str:
        values = getattr(self, part)
        return values["en"] if lang == "en" else values["zh"]


@dataclass(frozen=True)
class Example:
    text: str
    reason: str
    kind: str


@dataclass
class Dataset:
    train: list[Example] = field(default_factory=list)
    test: list[Example] = field(default_factory=list)


@lru_cache(maxsize=1)
def knowledge() -> tuple[Entry, ...]:
    raw = tomllib.loads(KNOWLEDGE_FILE.read_text(encoding="utf-8"))["entry"]
    entries = []
    for row in raw:
        entries.append(Entry(
            id=row["id"],
            title={"zh": row["title_zh"], "en": row["title_en"]},
            answer={"zh": row["answer_zh"], "en": row["answer_en"]},
            questions={"zh": tuple(row.get("q_zh", ())), "en": tuple(row.get("q_en", ()))},
            reasons=tuple(row.get("reasons", ())), kinds=tuple(row.get("kinds", ())),
            states=tuple(row.get("states", ())), audience=row.get("audience", "all"),
        ))
    return tuple(entries)


def read_labelled(path: Path) -> list[Example]:
    """`## <reason> <kind>` headers, then one complaint per line; `#` lines are comments."""
    examples: list[Example] = []
    reason = kind = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("## "):
            reason, kind = line[3:].split()
        elif line and not line.startswith("#"):
            examples.append(Example(text=line, reason=reason, kind=kind))
    return examples


def question_examples() -> list[str]:
    """The QUESTION class: the knowledge base's example questions phrased as questions, and small talk."""
    asked = [q for e in knowledge() if e.audience == "all" for lang in ("zh", "en") for q in e.questions[lang]
             if _ASKS.search(q)]
    small_talk = [line.strip() for line in CHITCHAT_FILE.read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")]
    return asked + small_talk


def policy_questions() -> list[tuple[str, str]]:
    rows = []
    for line in POLICY_QUESTIONS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            entry_id, question = (part.strip() for part in line.split("|", 1))
            rows.append((entry_id, question))
    return rows


def data_fingerprint() -> str:
    """Changes whenever a file the models are trained from changes (a stale model is rebuilt)."""
    digest = hashlib.sha256()
    for path in (KNOWLEDGE_FILE, TRAIN_FILE, CHITCHAT_FILE):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
