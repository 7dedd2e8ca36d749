"""Label harmonisation: left-out clips, masking of classes the target lacks, label maps."""

import numpy as np
import pytest

from hf_ser.evaluation.harmonise import apply_label_map, argmax_eval_labels, plan_labels

MODEL = ["anger", "calm", "happiness", "neutral", "sadness"]


def test_clips_outside_the_model_label_set_are_left_out_with_reason():
    plan, mapped, reasons = plan_labels(MODEL, ["anger", "disgust", "neutral", "fear"])
    assert reasons[0] is None and reasons[2] is None
    assert "disgust" in reasons[1] and "not in the model's label set" in reasons[1]
    assert "fear" in reasons[3]
    assert plan.target_labels == ("anger", "neutral")
    assert plan.absent_labels == ("calm", "happiness", "sadness")


def test_masking_changes_only_predictions_of_absent_classes():
    plan, _, _ = plan_labels(MODEL, ["anger", "happiness", "neutral"])  # target lacks calm and sadness
    logits = np.array(
        [
            [0.0, 9.0, 1.0, 2.0, 0.0],  # calm wins -> masked falls back to neutral
            [0.0, 0.0, 3.0, 1.0, 8.0],  # sadness wins -> masked falls back to happiness
            [5.0, 1.0, 0.0, 0.0, 0.0],  # anger wins in both
            [0.0, 4.0, 0.0, 6.0, 0.0],  # neutral wins in both (calm second)
        ]
    )
    unmasked = [plan.eval_labels[k] for k in argmax_eval_labels(logits, plan, masked=False)]
    masked = [plan.eval_labels[k] for k in argmax_eval_labels(logits, plan, masked=True)]
    assert unmasked == ["calm", "sadness", "anger", "neutral"]
    assert masked == ["neutral", "happiness", "anger", "neutral"]
    changed = [u != m for u, m in zip(unmasked, masked)]
    assert all(u in plan.absent_labels for u, c in zip(unmasked, changed) if c)


def test_label_map_merges_model_classes_and_relabels_targets():
    plan, mapped, reasons = plan_labels(MODEL, ["calm", "neutral", "sadness"], {"calm": "neutral", "sadness": None})
    assert plan.eval_labels == ("anger", "neutral", "happiness")
    assert mapped == ["neutral", "neutral", None]
    assert reasons[2] == "label 'sadness' dropped by the label map"
    # calm and neutral both map to "neutral"; sadness can never be predicted.
    logits = np.array([[0.0, 9.0, 0.0, 1.0, 20.0]])
    assert plan.eval_labels[argmax_eval_labels(logits, plan, masked=False)[0]] == "neutral"


def test_mapped_reason_names_both_labels():
    _, _, reasons = plan_labels(["anger"], ["exc"], {"exc": "happiness"})
    assert reasons == ["label 'exc' (mapped to 'happiness') not in the model's label set"]


def test_apply_label_map_and_all_none_map():
    assert apply_label_map("calm", {"calm": "neutral"}) == "neutral"
    assert apply_label_map("anger", {"calm": "neutral"}) == "anger"
    with pytest.raises(ValueError, match="every model class"):
        plan_labels(["a"], ["a"], {"a": None})
