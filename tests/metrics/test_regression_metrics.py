"""CCC / Pearson / Spearman / MAE per dimension."""

import numpy as np
import pytest

from hf_ser.metrics import regression_metrics


def test_identical_series_give_ccc_one_and_zero_mae():
    x = np.array([[0.1, 3.0], [0.5, 2.0], [0.9, 5.0], [0.2, 1.0]])
    m = regression_metrics(x, x.copy(), ["arousal", "valence"])
    for dim in ("arousal", "valence"):
        assert m["per_dim"][dim]["ccc"] == pytest.approx(1.0)
        assert m["per_dim"][dim]["mae"] == pytest.approx(0.0)
    assert m["mean_ccc"] == pytest.approx(1.0)
    assert m["n"] == 4


def test_shifted_series_hand_values():
    # x = 1,2,3 and y = x + 1: population var 2/3 each, covariance 2/3, mean gap 1 -> CCC = (4/3) / (4/3 + 1) = 4/7.
    m = regression_metrics([[1.0], [2.0], [3.0]], [[2.0], [3.0], [4.0]], ["arousal"])
    d = m["per_dim"]["arousal"]
    assert d["ccc"] == pytest.approx(4 / 7)
    assert d["pearson"] == pytest.approx(1.0)
    assert d["mae"] == pytest.approx(1.0)


def test_spearman_is_one_on_a_monotone_nonlinear_relation():
    x = np.arange(1.0, 8.0)
    y = np.exp(x)
    d = regression_metrics(x[:, None], y[:, None], ["valence"])["per_dim"]["valence"]
    assert d["spearman"] == pytest.approx(1.0)
    assert d["pearson"] < 0.95
    assert d["ccc"] < d["pearson"]


def test_anticorrelated_and_shape_mismatch():
    d = regression_metrics([[1.0], [2.0], [3.0]], [[3.0], [2.0], [1.0]], ["d"])["per_dim"]["d"]
    assert d["pearson"] == pytest.approx(-1.0) and d["spearman"] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="dims"):
        regression_metrics([[1.0, 2.0]], [[1.0, 2.0]], ["only_one"])
