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


def test_interval_from_a_stored_confusion_is_that_of_its_clips():
    from hf_ser.metrics import bootstrap_ci_from_confusion
    from hf_ser.metrics.scores import confusion_matrix

    rng = np.random.default_rng(3)
    refs = np.sort(rng.integers(0, 4, size=200))
    preds = np.where(rng.random(200) < 0.6, refs, rng.integers(0, 4, size=200))
    order = np.lexsort((preds, refs))  # the clips in the order the counts give them back
    conf = confusion_matrix(refs, preds, 4)
    for metric in ("wa", "ua", "macro_f1"):
        expected = bootstrap_ci(refs[order], preds[order], list("abcd"), metric=metric, seed=0)
        assert bootstrap_ci_from_confusion(conf, metric=metric) == expected


def test_chance_levels_of_a_test_set():
    from hf_ser.metrics import chance_scores

    balanced = chance_scores([[5, 0, 0], [0, 5, 0], [0, 0, 5]])
    assert balanced == pytest.approx({"wa": 1 / 3, "ua": 1 / 3, "macro_f1": 1 / 3})
    skewed = chance_scores([[6, 2], [1, 1]])  # 8 clips of the first label, 2 of the second; predictions do not matter
    assert skewed["wa"] == pytest.approx(0.8) and skewed["ua"] == pytest.approx(0.5)
    # Guessing uniformly: F1 of a label with share p is 2 p (1/2) / (p + 1/2).
    assert skewed["macro_f1"] == pytest.approx((2 * 0.8 * 0.5 / 1.3 + 2 * 0.2 * 0.5 / 0.7) / 2)
