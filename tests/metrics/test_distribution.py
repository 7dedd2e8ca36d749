"""Distribution scores (JS, KL, thresholded multi-label F1) and the class-balanced subset, against hand values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hf_ser.metrics import (
    balanced_indices,
    distribution_scores,
    js_divergence,
    kl_divergence,
    multilabel_macro_f1,
)


def test_js_divergence_bounds_and_hand_value():
    p = np.array([[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]])
    q = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    assert js_divergence(p, q).tolist() == pytest.approx([0.0, 0.0, 1.0])  # identical, identical, disjoint
    # p = (1, 0), q = (0.5, 0.5): m = (0.75, 0.25); JS = 0.5 * log2(1/0.75) + 0.5 * (0.5 log2(0.5/0.75) + 0.5 log2(2))
    expected = 0.5 * math.log2(1 / 0.75) + 0.5 * (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25))
    assert js_divergence(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))[0] == pytest.approx(expected)


def test_kl_divergence_hand_value():
    got = kl_divergence(np.array([[0.75, 0.25]]), np.array([[0.5, 0.5]]))[0]
    assert got == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))


def test_multilabel_macro_f1_thresholds_at_one_over_k():
    # 4 classes, threshold 0.25. Reference multi-hot: {0, 1}, {2}; prediction: {0}, {2, 3}.
    targets = np.array([[0.5, 0.3, 0.1, 0.1], [0.0, 0.0, 1.0, 0.0]])
    preds = np.array([[0.7, 0.2, 0.05, 0.05], [0.1, 0.1, 0.4, 0.4]])
    # class 0: tp1 -> F1 1; class 1: fn1 -> 0; class 2: tp1 -> 1; class 3: fp1 -> 0.
    assert multilabel_macro_f1(targets, preds) == pytest.approx(0.5)
    # threshold 0.6: reference {}, {2}; prediction {0}, {}: class 0 is a false positive, class 2 a miss.
    assert multilabel_macro_f1(targets, preds, threshold=0.6) == 0.0


def test_distribution_scores_of_perfect_logits():
    targets = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    logits = np.log(np.clip(targets, 1e-12, None))
    scores = distribution_scores(targets, logits, ["a", "b", "c"])
    assert scores["n"] == 2 and scores["js"] == pytest.approx(0.0, abs=1e-6)
    assert scores["kl"] == pytest.approx(0.0, abs=1e-6) and scores["multilabel_macro_f1"] == 1.0
    assert distribution_scores(np.zeros((0, 3)), np.zeros((0, 3)), ["a", "b", "c"])["js"] is None


def test_balanced_indices_keep_the_rarest_class_count():
    refs = [0, 0, 0, 0, 1, 1, 2, 2, 2, -100]
    idx = balanced_indices(refs, seed=3)
    kept = np.asarray(refs)[idx]
    assert sorted(kept.tolist()) == [0, 0, 1, 1, 2, 2]
    assert idx.tolist() == sorted(idx.tolist()) and balanced_indices(refs, seed=3).tolist() == idx.tolist()
