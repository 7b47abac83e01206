"""The trained models on disk: built by `assistant_build` (or on first use) from the shipped data."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from . import data, text
from .classifier import SoftmaxModel, train
from .retrieval import KnowledgeIndex

log = logging.getLogger(__name__)
MODEL_VERSION = "1"


@dataclass
class Models:
    reason: SoftmaxModel  # the nine reasons plus `question`
    kind: SoftmaxModel
    index: KnowledgeIndex
    fingerprint: str


def model_dir() -> Path:
    return Path(getattr(settings, "ASSISTANT_MODEL_DIR", "") or settings.VAR_DIR / "assistant")


def model_path() -> Path:
    return model_dir() / f"model-v{MODEL_VERSION}.npz"


def build(path: Path | None = None) -> Models:
    """Train both classifiers from `data/` and write them atomically (numpy arrays, no pickle)."""
    text.setup(model_dir())
    examples = data.read_labelled(data.TRAIN_FILE)
    questions = data.question_examples()
    reason = train([e.text for e in examples] + questions,
                   [e.reason for e in examples] + [data.QUESTION] * len(questions))
    kind = train([e.text for e in examples], [e.kind for e in examples])
    fingerprint = data.data_fingerprint()
    path = path or model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {**reason.to_arrays("reason"), **kind.to_arrays("kind"), "fingerprint": np.array([fingerprint])}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub types the first keyword
    os.replace(tmp, path)
    log.info("assistant models built at %s", path)
    return Models(reason=reason, kind=kind, index=KnowledgeIndex(data.knowledge()), fingerprint=fingerprint)


def load(path: Path | None = None) -> Models | None:
    """The stored models, or None when missing or trained from other data."""
    path = path or model_path()
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            stored = dict(arrays)
    except (OSError, ValueError):
        return None
    if str(stored["fingerprint"][0]) != data.data_fingerprint():
        return None
    text.setup(model_dir())
    return Models(reason=SoftmaxModel.from_arrays(stored, "reason"), kind=SoftmaxModel.from_arrays(stored, "kind"),
                  index=KnowledgeIndex(data.knowledge()), fingerprint=str(stored["fingerprint"][0]))


_models: Models | None = None
_lock = threading.Lock()


def current() -> Models:
    """This process's models: loaded once, built first when missing or stale."""
    global _models
    if _models is None:
        with _lock:
            if _models is None:
                _models = load() or build()
    return _models


def reset() -> None:
    global _models
    _models = None
