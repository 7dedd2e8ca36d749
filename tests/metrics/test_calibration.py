"""Calibration figures, temperature scaling and selective prediction on hand-made inputs."""

import numpy as np
import pytest

from hf_ser.metrics.calibration import (
    accuracy_at_coverage,
    brier_score,
    calibration_scores,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    probabilities,
    reliability_bins,
    risk_coverage,
    soft_calibration,
)


def test_ece_by_hand():
    # Two clips at confidence 0.9 (one right, one wrong) and two at 0.6 (both right), 10 bins:
    # bin (0.8, 0.9]: |0.5 - 0.9| * 2/4 = 0.2 ; bin (0.5, 0.6]: |1.0 - 0.6| * 2/4 = 0.2 -> 0.4
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]])
    refs = np.array([0, 1, 1, 1])
    assert expected_calibration_error(probs, refs, n_bins=10) == pytest.approx(0.4)
    bins = reliability_bins(probs, refs, n_bins=10)
    assert bins["count"][8] == 2 and bins["accuracy"][8] == 0.5 and bins["confidence"][8] == pytest.approx(0.9)
    assert bins["count"][5] == 2 and bins["accuracy"][5] == 1.0 and sum(bins["count"]) == 4
    assert bins["accuracy"][0] is None


def test_a_calibrated_model_has_ece_near_zero():
    rng = np.random.default_rng(0)
    n = 20000
    conf = rng.uniform(0.5, 1.0, n)
    correct = rng.random(n) < conf  # right exactly as often as it says
    probs = np.stack([conf, 1 - conf], axis=1)
    refs = np.where(correct, 0, 1)
    assert expected_calibration_error(probs, refs) < 0.02


def test_brier_by_hand_for_hard_and_soft_targets():
    probs = np.array([[0.8, 0.2], [0.5, 0.5]])
    assert brier_score(probs, [0, 1]) == pytest.approx(((0.04 + 0.04) + (0.25 + 0.25)) / 2)
    assert brier_score(probs, np.array([[1.0, 0.0], [0.5, 0.5]])) == pytest.approx(0.04)


def test_temperature_scaling_recovers_the_temperature_that_made_the_logits_overconfident():
    rng = np.random.default_rng(1)
    n, k = 4000, 4
    true_logits = rng.normal(0, 1.5, (n, k))
    refs = np.array([rng.choice(k, p=p) for p in probabilities(true_logits)])
    overconfident = true_logits * 3.0  # the model says the same thing, three times too sure
    t = fit_temperature(overconfident, refs)
    assert t == pytest.approx(3.0, rel=0.1)
    assert negative_log_likelihood(overconfident, refs, t) < negative_log_likelihood(overconfident, refs)
    before = expected_calibration_error(probabilities(overconfident), refs)
    after = expected_calibration_error(probabilities(overconfident, t), refs)
    assert after < before / 2
    # The arg-max, hence every accuracy figure, is unchanged.
    assert (probabilities(overconfident, t).argmax(1) == overconfident.argmax(1)).all()


def test_temperature_is_left_alone_when_nothing_can_be_fitted():
    logits = np.array([[2.0, 0.0], [3.0, 1.0]])
    assert fit_temperature(logits, [0, 0]) == 1.0  # one class: sharpening would always look better
    assert fit_temperature(np.zeros((0, 2)), []) == 1.0


def test_masked_classes_stay_at_zero_probability():
    logits = np.array([[1.0, -np.inf, 0.0], [0.0, -np.inf, 2.0], [0.5, -np.inf, 0.4]])
    p = probabilities(logits, 2.0)
    assert (p[:, 1] == 0).all() and np.allclose(p.sum(1), 1)
    assert np.isfinite(fit_temperature(logits, [0, 2, 2]))


def test_risk_coverage_and_accuracy_at_coverage_by_hand():
    # Confidences 0.9 (right), 0.8 (wrong), 0.7 (right), 0.6 (wrong)
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
    refs = np.array([0, 0, 0, 0])
    curve = risk_coverage(probs, refs)
    assert curve["coverage"] == [0.25, 0.5, 0.75, 1.0]
    assert curve["risk"] == pytest.approx([0.0, 0.5, 1 / 3, 0.5])
    assert accuracy_at_coverage(probs, refs) == pytest.approx({"50": 0.5, "80": 0.5, "100": 0.5})
    assert accuracy_at_coverage(probs, refs, (0.25,)) == {"25": 1.0}


def test_calibration_scores_and_soft_calibration():
    logits = np.log(np.array([[0.7, 0.3], [0.6, 0.4]]))
    scores = calibration_scores(probabilities(logits), [0, 1])
    assert set(scores) == {"ece", "brier", "nll", "temperature", "accuracy_at_coverage", "risk_coverage"}
    assert scores["risk_coverage"]["coverage"][-1] == 1.0 and scores["risk_coverage"]["risk"][-1] == 0.5
    assert scores["ece"] == pytest.approx(0.5 * 0.3 + 0.5 * 0.6)  # bins 0.7 (right) and 0.6 (wrong)
    votes = np.array([[7, 3], [6, 4]])  # the raters agree exactly with the predicted distributions
    soft = soft_calibration(logits, votes)
    assert soft["ece"] == pytest.approx(0.0, abs=1e-12) and soft["brier"] == pytest.approx(0.0, abs=1e-12)


def test_a_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature"):
        probabilities(np.zeros((1, 2)), 0.0)


def test_nothing_scored_gives_no_figures():
    scores = calibration_scores(np.zeros((0, 3)), [])
    assert soft_calibration(np.zeros((0, 3)), np.zeros((0, 3))) == {"ece": None, "brier": None}
    assert scores["ece"] is None and scores["brier"] is None and scores["accuracy_at_coverage"]["100"] is None
