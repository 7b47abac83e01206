"""A softmax (multinomial logistic) regression over hashed-free sparse text features, in numpy.

Trained with Adam on class-balanced cross-entropy and L2; its probabilities are calibrated by temperature
scaling fitted on out-of-fold predictions (Guo et al., 2017), so `confidence` means what it says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import text


@dataclass
class SoftmaxModel:
    classes: list[str]
    vocab: dict[str, int]
    weights: np.ndarray  # (features + 1 bias row) × classes
    temperature: float = 1.0

    def logits(self, feats: Sequence[str]) -> np.ndarray:
        idx = sorted({self.vocab[f] for f in feats if f in self.vocab})
        out = self.weights[-1].copy()
        if idx:
            out += self.weights[idx].sum(axis=0) / np.sqrt(len(idx))
        return out

    def proba(self, sentence: str) -> np.ndarray:
        return softmax(self.logits(text.features(sentence)) / self.temperature)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_classes": np.array(self.classes), f"{prefix}_vocab": np.array(list(self.vocab)),
                f"{prefix}_weights": self.weights.astype(np.float32),
                f"{prefix}_temperature": np.array([self.temperature])}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> SoftmaxModel:
        vocab = [str(v) for v in arrays[f"{prefix}_vocab"]]
        return cls(classes=[str(c) for c in arrays[f"{prefix}_classes"]], vocab={v: i for i, v in enumerate(vocab)},
                   weights=np.asarray(arrays[f"{prefix}_weights"], dtype=np.float64),
                   temperature=float(arrays[f"{prefix}_temperature"][0]))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class _Sparse:
    """A binary, row-L2-normalised document × feature matrix with the two products training needs."""

    def __init__(self, feature_lists: list[list[str]], vocab: dict[str, int]) -> None:
        rows, cols, vals = [], [], []
        for row, feats in enumerate(feature_lists):
            idx = sorted({vocab[f] for f in feats if f in vocab})
            rows += [row] * len(idx)
            cols += idx
            vals += [1.0 / np.sqrt(len(idx))] * len(idx)
        self.shape = (len(feature_lists), len(vocab))
        self.rows, self.cols = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
        self.vals = np.array(vals, dtype=np.float64)
        self.by_col = np.argsort(self.cols, kind="stable")

    def take(self, row_ids: np.ndarray) -> _Sparse:
        keep = np.isin(self.rows, row_ids)
        renumber = {int(r): i for i, r in enumerate(row_ids)}
        out = object.__new__(_Sparse)
        out.shape = (len(row_ids), self.shape[1])
        out.rows = np.array([renumber[int(r)] for r in self.rows[keep]], dtype=np.int64)
        out.cols, out.vals = self.cols[keep], self.vals[keep]
        order = np.argsort(out.rows, kind="stable")
        out.rows, out.cols, out.vals = out.rows[order], out.cols[order], out.vals[order]
        out.by_col = np.argsort(out.cols, kind="stable")
        return out

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ W (rows are stored in order)."""
        out = np.zeros((self.shape[0], w.shape[1]))
        if len(self.rows):
            starts = np.flatnonzero(np.r_[True, self.rows[1:] != self.rows[:-1]])
            out[self.rows[starts]] = np.add.reduceat(w[self.cols] * self.vals[:, None], starts, axis=0)
        return out

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """X.T @ G."""
        out = np.zeros((self.shape[1], g.shape[1]))
        if len(self.rows):
            rows, cols, vals = self.rows[self.by_col], self.cols[self.by_col], self.vals[self.by_col]
            starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
            out[cols[starts]] = np.add.reduceat(g[rows] * vals[:, None], starts, axis=0)
        return out


def _fit(x: _Sparse, y: np.ndarray, n_classes: int, *, epochs: int = 160, l2: float = 1e-4,
         lr: float = 0.05, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, f = x.shape
    w = rng.normal(0, 0.01, size=(f + 1, n_classes))
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    sample_w = (n / (n_classes * np.maximum(counts, 1)))[y]
    sample_w /= sample_w.sum()
    onehot = np.eye(n_classes)[y]
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    b1, b2 = 0.9, 0.999
    for step in range(1, epochs + 1):
        p = softmax(x.dot(w[:-1]) + w[-1])
        g = (p - onehot) * sample_w[:, None]
        grad = np.vstack([x.tdot(g), g.sum(axis=0)]) + l2 * w
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        w -= lr * (m / (1 - b1 ** step)) / (np.sqrt(v / (1 - b2 ** step)) + 1e-8)
    return w


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of held-out predictions."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.2), np.log(5.0), 61)):
        p = softmax(logits / t)
        nll = -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def train(sentences: Sequence[str], labels: Sequence[str], *, folds: int = 3, min_count: int = 1,
          seed: int = 0) -> SoftmaxModel:
    """Fit on everything; calibrate the temperature on `folds`-fold out-of-fold logits."""
    feature_lists = [text.features(s) for s in sentences]
    counts = Counter(f for feats in feature_lists for f in set(feats))
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels])
    x = _Sparse(feature_lists, vocab)
    oof = np.zeros((len(y), len(classes)))
    order = np.random.default_rng(seed).permutation(len(y))
    for k in range(folds):
        held = order[k::folds]
        kept = np.setdiff1d(order, held)
        w = _fit(x.take(kept), y[kept], len(classes), seed=seed)
        oof[held] = x.take(held).dot(w[:-1]) + w[-1]
    temperature = _fit_temperature(oof, y)
    weights = _fit(x, y, len(classes), seed=seed)
    return SoftmaxModel(classes=classes, vocab=vocab, weights=weights, temperature=temperature)
