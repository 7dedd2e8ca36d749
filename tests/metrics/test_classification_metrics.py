"""WA / UA / macro-F1 / per-class numbers on hand-made confusions, through the shipped `evaluate` module."""

import math

import evaluate
import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from hf_ser.metrics import classification_metrics, load_metric, metric_path


def test_imbalanced_case_ua_differs_from_wa():
    # 8 "a" clips all right, 2 "b" clips both predicted "a".
    refs = [0] * 8 + [1] * 2
    preds = [0] * 10
    m = classification_metrics(refs, preds, ["a", "b"])
    assert m["wa"] == pytest.approx(0.8)
    assert m["ua"] == pytest.approx(0.5)
    assert m["per_class_recall"] == {"a": pytest.approx(1.0), "b": pytest.approx(0.0)}
    assert m["per_class_precision"]["a"] == pytest.approx(0.8)
    assert m["per_class_precision"]["b"] is None  # never predicted: undefined
    # F1(a) = 2*8 / (10 + 8); F1(b) = 0.
    assert m["macro_f1"] == pytest.approx((16 / 18 + 0.0) / 2)
    assert m["confusion"] == [[8, 0], [2, 0]]
    assert m["n"] == 10
    assert m["labels"] == ["a", "b"]


def test_three_class_hand_computed():
    # reference a: 3->a, 1->b; reference b: 1->b, 1->c; reference c: 4->c
    refs = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    preds = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
    m = classification_metrics(refs, preds, ["a", "b", "c"])
    assert m["confusion"] == [[3, 1, 0], [0, 1, 1], [0, 0, 4]]
    assert m["wa"] == pytest.approx(0.8)
    assert m["ua"] == pytest.approx((0.75 + 0.5 + 1.0) / 3)
    assert m["per_class_precision"] == {"a": pytest.approx(1.0), "b": pytest.approx(0.5), "c": pytest.approx(0.8)}
    assert m["macro_f1"] == pytest.approx((6 / 7 + 0.5 + 8 / 9) / 3)
    assert m["support"] == {"a": 4, "b": 2, "c": 4}


def test_class_without_references_is_left_out_of_ua_but_its_predictions_are_errors():
    refs, preds = [0, 0, 1, 1], [0, 2, 1, 1]
    m = classification_metrics(refs, preds, ["a", "b", "c"])
    assert m["per_class_recall"]["c"] is None
    assert m["ua"] == pytest.approx(0.75)
    assert m["wa"] == pytest.approx(0.75)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1.0 + 0.0) / 3)


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_on_random_predictions(seed):
    rng = np.random.default_rng(seed)
    refs = rng.integers(0, 4, 200)
    preds = np.where(rng.random(200) < 0.6, refs, rng.integers(0, 5, 200))  # class 4 never a reference
    m = classification_metrics(refs, preds, ["a", "b", "c", "d", "e"])
    assert m["ua"] == pytest.approx(balanced_accuracy_score(refs, preds))
    assert m["macro_f1"] == pytest.approx(f1_score(refs, preds, average="macro", zero_division=0))
    assert m["wa"] == pytest.approx(float(np.mean(refs == preds)))


def test_index_outside_labels_is_refused():
    with pytest.raises(ValueError, match="outside"):
        classification_metrics([0, 3], [0, 1], ["a", "b"])


def test_module_loads_offline_from_its_path(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    metric = evaluate.load(str(metric_path("ser_classification")))
    out = metric.compute(predictions=[1, 1], references=[0, 1], labels=["x", "y"])
    assert out["wa"] == pytest.approx(0.5)
    assert load_metric("ser_classification") is load_metric("ser_classification")  # cached


def test_unknown_metric_lists_valid_names():
    with pytest.raises(KeyError, match="ser_classification"):
        metric_path("accuracy")


def test_empty_input_gives_undefined_not_crash():
    m = classification_metrics([], [], ["a"])
    assert m["n"] == 0 and m["wa"] is None and m["ua"] is None
    assert not any(isinstance(v, float) and math.isnan(v) for v in m["per_class_recall"].values())
