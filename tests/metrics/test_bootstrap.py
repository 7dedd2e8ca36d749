"""Seeded, vectorised percentile bootstrap."""

import numpy as np
import pytest

from hf_ser.metrics import bootstrap_ci, classification_metrics

LABELS = ["a", "b", "c", "d"]


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    refs = rng.integers(0, 4, n)
    preds = np.where(rng.random(n) < 0.55, refs, rng.integers(0, 4, n))
    return refs, preds


@pytest.mark.parametrize("metric", ["wa", "ua", "macro_f1"])
def test_same_seed_same_interval_and_contains_point_estimate(metric):
    refs, preds = _data()
    ci1 = bootstrap_ci(refs, preds, LABELS, metric=metric, n_boot=500, seed=3)
    ci2 = bootstrap_ci(refs, preds, LABELS, metric=metric, n_boot=500, seed=3)
    assert ci1 == ci2
    point = classification_metrics(refs, preds, LABELS)[metric]
    assert ci1[0] < point < ci1[1]
    assert ci1[1] - ci1[0] < 0.2


def test_other_seed_other_interval_and_wider_for_fewer_clips():
    refs, preds = _data()
    assert bootstrap_ci(refs, preds, LABELS, n_boot=300, seed=0) != bootstrap_ci(refs, preds, LABELS, n_boot=300, seed=1)
    small = bootstrap_ci(refs[:40], preds[:40], LABELS, n_boot=300, seed=0)
    large = bootstrap_ci(refs, preds, LABELS, n_boot=300, seed=0)
    assert small[1] - small[0] > large[1] - large[0]


def test_perfect_predictions_give_a_degenerate_interval():
    refs = np.array([0, 1, 2, 3] * 10)
    assert bootstrap_ci(refs, refs, LABELS, metric="ua", n_boot=200) == (1.0, 1.0)


def test_a_crema_d_sized_test_set_gives_a_narrow_interval_around_the_estimate():
    """At CREMA-D's size (7,442 clips) the interval is tight and holds the point estimate (its speed is a
    benchmark matter: no wall-clock assertion here)."""
    refs, preds = _data(n=7442)
    labels = LABELS + ["e", "f"]
    low, high = bootstrap_ci(refs, preds, labels, metric="ua", n_boot=1000)
    point = classification_metrics(refs, preds, labels)["ua"]
    assert low <= point <= high and high - low < 0.05


def test_unknown_metric_is_refused():
    with pytest.raises(KeyError, match="macro_f1"):
        bootstrap_ci([0], [0], ["a"], metric="f1")
