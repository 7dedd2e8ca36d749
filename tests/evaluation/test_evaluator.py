"""evaluate_model on a tiny saved random model and a fake corpus."""

import numpy as np
import pytest
import torch
from eval_fixtures import MODEL_LABELS, load_fake, tiny_classifier
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

from hf_ser.evaluation import evaluate_model
from hf_ser.evaluation.inference import infer_logits


@pytest.fixture
def loaded(tiny_model_dir):
    return AutoModelForAudioClassification.from_pretrained(tiny_model_dir), AutoFeatureExtractor.from_pretrained(tiny_model_dir)


def test_masked_and_unmasked_figures_and_left_out_clips(loaded, fake_corpus):
    model, fe = loaded
    result = evaluate_model(model, fe, load_fake(fake_corpus), batch_size=3, progress=False, n_boot=50)
    # 6 audible clips of model labels; the silent one and the "surprise" one are left out with reasons.
    assert len(result.utt_ids) == 6
    reasons = {item["utt_id"]: item["reason"] for item in result.left_out}
    assert "silent audio" in reasons["m2_happiness_6"]
    assert "not in the model's label set" in reasons["f1_surprise_7"]
    assert result.left_out_counts["silent audio"] == 1
    # The bias makes "calm" win; the target has no calm clip.
    assert set(result.predictions_unmasked) == {"calm"}
    assert result.unmasked["wa"] == 0.0
    assert result.plan.absent_labels == ("calm",)
    assert set(result.predictions_masked) == {"happiness"}
    assert result.masked["labels"] == ["anger", "happiness", "neutral"]
    assert result.masked["wa"] == pytest.approx(2 / 6)
    assert result.masked["ua"] == pytest.approx(1 / 3)
    assert result.masked["ci"]["wa"][0] <= 2 / 6 <= result.masked["ci"]["wa"][1]
    # Breakdowns: per speaker (corpus-qualified), gender, language.
    assert result.breakdowns["speaker"]["fake/f1"]["n"] == 3
    assert result.breakdowns["gender"]["male"]["wa"] == pytest.approx(1 / 3)
    assert result.breakdowns["language"]["en"]["n"] == 6


def test_label_map_relabels_and_merges(loaded, fake_corpus):
    model, fe = loaded
    result = evaluate_model(
        model, fe, load_fake(fake_corpus), label_map={"calm": "neutral", "surprise": "happiness"}, progress=False, n_boot=0
    )
    # calm predictions now count as neutral; the surprise clip is scored as happiness.
    assert len(result.utt_ids) == 7
    assert set(result.predictions_unmasked) == {"neutral"}
    assert result.unmasked["wa"] == pytest.approx(2 / 7)
    assert result.plan.absent_labels == ()
    assert result.masked["ci"]["ua"] is None  # n_boot=0: no interval


def test_padding_and_batch_order_do_not_change_logits(tmp_path, fake_corpus):
    model = tiny_classifier(seed=1).eval()
    fe = AutoFeatureExtractor.from_pretrained(_save_fe(tmp_path))
    ds = load_fake(fake_corpus)
    paths, durations = ds["path"], ds["duration_s"]
    one, fail1 = infer_logits(model, fe, paths, durations, batch_size=1, progress=False)
    many, fail2 = infer_logits(model, fe, paths, durations, batch_size=4, progress=False)
    assert fail1 == fail2 and len(fail1) == 1
    ok = ~np.isnan(one).any(axis=1)
    np.testing.assert_allclose(one[ok], many[ok], atol=1e-4)


def test_model_without_labels_is_refused(loaded, fake_corpus):
    model = tiny_classifier()
    model.config.id2label = {}
    with pytest.raises(ValueError, match="id2label"):
        evaluate_model(model, loaded[1], load_fake(fake_corpus), progress=False)


def _save_fe(path):
    from transformers import Wav2Vec2FeatureExtractor

    Wav2Vec2FeatureExtractor(sampling_rate=16_000, return_attention_mask=True).save_pretrained(path)
    return path


def test_model_is_left_in_its_training_mode(loaded, fake_corpus):
    model, fe = loaded
    model.train()
    with torch.no_grad():
        evaluate_model(model, fe, load_fake(fake_corpus), progress=False, n_boot=0)
    assert model.training
    assert MODEL_LABELS == [model.config.id2label[i] for i in range(4)]
