"""Does a probability of 0.9 mean 90 %? Calibration, temperature scaling and selective prediction.

* ``ece``: expected calibration error of the top label (Guo et al. 2017, "On Calibration of Modern Neural
  Networks", ICML): clips are put in ``n_bins`` equal-width confidence bins (15 by default, as in that paper);
  ECE = sum over bins of (clips in bin / clips) * |accuracy in bin - mean confidence in bin|. 0 = calibrated.
* ``brier``: multi-class Brier score, the mean over clips of sum_k (p_k - y_k)^2 (y one-hot); 0 is perfect, 2
  the worst. For soft labels y is the annotators' vote distribution (``soft_calibration``).
* ``nll``: mean negative log-likelihood of the reference class (nats), the quantity temperature scaling minimises.
* Temperature scaling: one scalar T > 0 divides the logits before the softmax, fitted on the validation split by
  minimising its NLL. It never changes the arg-max, so WA / UA / macro-F1 are unchanged; only the probabilities
  move. ``fit_temperature`` searches log T by golden section (NLL is convex in 1/T), deterministic and numpy-only.
* Selective prediction: sort clips by confidence, answer only the most confident fraction (the coverage), abstain
  on the rest. ``risk_coverage`` gives the error rate at every coverage; ``accuracy_at_coverage`` the accuracy of
  the answered clips at 50 / 80 / 100 % coverage (100 % = the usual accuracy).

Probabilities are ``softmax(logits / T)`` rows; ``references`` are class indices (rows with a reference < 0 are
left out by the callers, not here).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hf_ser.metrics.distribution import softmax

ECE_BINS = 15
COVERAGES = (0.5, 0.8, 1.0)
# The search interval of log T: T from 0.05 (sharpen 20x) to 20 (flatten 20x) covers every model seen in practice.
_LOG_T_RANGE = (np.log(0.05), np.log(20.0))


def probabilities(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` row by row; ``-inf`` logits (masked classes) get probability 0."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return softmax(np.asarray(logits, dtype=np.float64) / temperature)


def reliability_bins(probs: np.ndarray, references: Sequence[int], n_bins: int = ECE_BINS) -> dict[str, list]:
    """Per equal-width confidence bin: ``lower``, ``upper``, ``count``, ``confidence`` (mean) and ``accuracy``
    (``None`` for an empty bin). What the reliability diagram draws and ECE sums."""
    probs, refs = np.asarray(probs, dtype=np.float64), np.asarray(references, dtype=np.int64)
    return _bins(probs.max(axis=1), probs.argmax(axis=1) == refs, n_bins)


def _bins(confidence: np.ndarray, outcome: np.ndarray, n_bins: int) -> dict[str, list]:
    """Equal-width bins of ``confidence`` with the mean ``outcome`` (right or wrong, or a vote share) in each."""
    outcome = np.asarray(outcome, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin k holds (edges[k], edges[k+1]]; a confidence of exactly 0 cannot occur for a softmax row.
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    out: dict[str, list] = {"lower": edges[:-1].tolist(), "upper": edges[1:].tolist(), "count": [],
                            "confidence": [], "accuracy": []}
    for k in range(n_bins):
        in_bin = which == k
        n = int(in_bin.sum())
        out["count"].append(n)
        out["confidence"].append(float(confidence[in_bin].mean()) if n else None)
        out["accuracy"].append(float(outcome[in_bin].mean()) if n else None)
    return out


def expected_calibration_error(probs: np.ndarray, references: Sequence[int], n_bins: int = ECE_BINS) -> float:
    """Top-label ECE over ``n_bins`` equal-width bins (see the module docstring); ``nan`` for no clips."""
    return _ece(reliability_bins(probs, references, n_bins))


def _ece(bins: dict[str, list]) -> float:
    """Sum over bins of (share of clips) * |mean outcome - mean confidence|; ``nan`` for no clips."""
    total = sum(bins["count"])
    if not total:
        return float("nan")
    gaps = [c / total * abs(a - f) for c, a, f in zip(bins["count"], bins["accuracy"], bins["confidence"]) if c]
    return float(sum(gaps))


def brier_score(probs: np.ndarray, targets: np.ndarray | Sequence[int]) -> float:
    """Mean over clips of the squared distance between ``probs`` and ``targets`` (class indices -> one-hot, or a
    ``(n, K)`` distribution such as annotator votes)."""
    probs = np.asarray(probs, dtype=np.float64)
    targets = np.asarray(targets)
    if targets.ndim == 1:
        targets = np.eye(probs.shape[1])[targets.astype(np.int64)]
    if not len(probs):
        return float("nan")
    return float(((probs - targets) ** 2).sum(axis=1).mean())


def negative_log_likelihood(logits: np.ndarray, references: Sequence[int], temperature: float = 1.0) -> float:
    """Mean NLL (nats) of the reference class under ``softmax(logits / temperature)``."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    refs = np.asarray(references, dtype=np.int64)
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1))
    return float((log_norm - z[np.arange(len(z)), refs]).mean())


def fit_temperature(logits: np.ndarray, references: Sequence[int], *, iterations: int = 60) -> float:
    """The temperature minimising the NLL of ``references`` (golden-section search over log T).

    Returns 1.0 (no change) when there is nothing to fit: no clips, or a single class in ``references`` where a
    sharper and sharper softmax would always look better.
    """
    logits, refs = np.asarray(logits, dtype=np.float64), np.asarray(references, dtype=np.int64)
    if len(refs) == 0 or len(np.unique(refs)) < 2:
        return 1.0

    def loss(log_t: float) -> float:
        return negative_log_likelihood(logits, refs, float(np.exp(log_t)))

    lo, hi = _LOG_T_RANGE
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(iterations):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = loss(b)
    best = 0.5 * (lo + hi)
    # Never return a temperature that fits worse than leaving the logits alone.
    return float(np.exp(best)) if loss(best) <= loss(0.0) else 1.0


def risk_coverage(probs: np.ndarray, references: Sequence[int]) -> dict[str, list[float]]:
    """Coverage (fraction answered, most confident first) and risk (error rate of the answered clips) at every
    cut: ``{"coverage": [...], "risk": [...], "confidence": [...]}`` with one point per clip."""
    probs, refs = np.asarray(probs, dtype=np.float64), np.asarray(references, dtype=np.int64)
    if not len(probs):
        return {"coverage": [], "risk": [], "confidence": []}
    confidence = probs.max(axis=1)
    order = np.argsort(-confidence, kind="stable")
    wrong = (probs.argmax(axis=1) != refs)[order]
    answered = np.arange(1, len(order) + 1)
    return {"coverage": (answered / len(order)).tolist(), "risk": (np.cumsum(wrong) / answered).tolist(),
            "confidence": confidence[order].tolist()}


def risk_coverage_points(probs: np.ndarray, references: Sequence[int], points: int = 20) -> dict[str, list[float]]:
    """The risk-coverage curve sampled at ``points`` evenly spaced coverages (1/points ... 1): an aggregate small
    enough for ``metrics.json`` (no per-clip values) and what the diagram draws."""
    curve = risk_coverage(probs, references)
    n = len(curve["risk"])
    coverages = [(i + 1) / points for i in range(points)]
    risks = [curve["risk"][max(1, int(np.ceil(c * n))) - 1] for c in coverages] if n else []
    return {"coverage": coverages if n else [], "risk": risks}


def accuracy_at_coverage(
    probs: np.ndarray, references: Sequence[int], coverages: Sequence[float] = COVERAGES
) -> dict[str, float]:
    """Accuracy of the most confident ``c`` fraction of clips (at least one clip), keyed ``"50"``, ``"80"``, ..."""
    curve = risk_coverage(probs, references)
    n = len(curve["risk"])
    out = {}
    for c in coverages:
        if n:
            k = max(1, int(np.ceil(c * n)))
            out[f"{round(100 * c)}"] = 1.0 - curve["risk"][k - 1]
        else:
            out[f"{round(100 * c)}"] = float("nan")
    return out


def calibration_scores(probs: np.ndarray, references: Sequence[int], temperature: float = 1.0) -> dict:
    """``{"ece", "brier", "nll", "temperature", "accuracy_at_coverage", "risk_coverage"}`` of scored clips (what
    every evaluated split records in ``metrics.json``).

    Args:
        probs: ``(n, K)`` probabilities, already ``softmax(logits / temperature)`` over the allowed classes.
        references: class indices.
        temperature: the temperature ``probs`` were made with (recorded, not applied).
    """
    refs = np.asarray(references, dtype=np.int64)
    if not len(refs):  # nothing scored: no figure (None, as metrics.json writes absent values)
        return {"ece": None, "brier": None, "nll": None, "temperature": float(temperature),
                "accuracy_at_coverage": {f"{round(100 * c)}": None for c in COVERAGES},
                "risk_coverage": {"coverage": [], "risk": []}}
    probs = np.asarray(probs, dtype=np.float64)
    # A reference at probability 0 (an underflow) costs a finite, huge loss instead of an infinite one.
    reference_p = np.clip(probs[np.arange(len(refs)), refs], 1e-12, None)
    return {
        "ece": expected_calibration_error(probs, refs),
        "brier": brier_score(probs, refs),
        "nll": float(-np.log(reference_p).mean()),
        "temperature": float(temperature),
        "accuracy_at_coverage": accuracy_at_coverage(probs, refs),
        "risk_coverage": risk_coverage_points(probs, refs),
    }


def soft_calibration(logits: np.ndarray, votes: np.ndarray, temperature: float = 1.0, n_bins: int = ECE_BINS) -> dict:
    """Calibration against annotator vote distributions (soft labels): ``brier`` to the votes, and ``ece`` where a
    bin's accuracy is the mean share of votes the predicted class received (a 0.7 confidence is calibrated when
    the raters gave that class 70 % of their votes on such clips)."""
    probs = probabilities(logits, temperature)
    votes = np.asarray(votes, dtype=np.float64)
    votes = votes / np.maximum(votes.sum(axis=1, keepdims=True), 1e-12)
    if not len(probs):  # no voted clip: no figure (None, as calibration_scores writes it)
        return {"ece": None, "brier": None}
    share = votes[np.arange(len(votes)), probs.argmax(axis=1)]
    return {"ece": _ece(_bins(probs.max(axis=1), share, n_bins)), "brier": brier_score(probs, votes)}
