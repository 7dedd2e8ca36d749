import datasets
import numpy as np
import pytest
import torch
from audio_fixtures import write_wav

from hf_ser.audio import load_audio
from hf_ser.baselines import build_baseline
from hf_ser.baselines.targets import dims_array, dims_metrics
from hf_ser.data.batching import ClipDataset, Collator


def _table(valence, arousal):
    return datasets.Dataset.from_dict({"utt_id": [str(i) for i in range(len(valence))], "valence": valence, "arousal": arousal})


def test_dims_array_keeps_order_and_nan():
    ds = _table([0.1, None, 0.5], [0.9, 0.2, float("nan")])
    arr = dims_array(ds, ["arousal", "valence"])
    assert arr.shape == (3, 2) and arr.dtype == np.float32
    np.testing.assert_allclose(arr[0], [0.9, 0.1], rtol=1e-6)
    assert np.isnan(arr[1, 1]) and np.isnan(arr[2, 0])


def test_dims_array_refuses_what_it_cannot_score():
    ds = _table([0.1, 0.2], [float("nan"), float("nan")])
    with pytest.raises(KeyError, match="valence"):
        dims_array(ds, ["happiness"])
    with pytest.raises(ValueError, match="arousal"):
        dims_array(ds, ["valence", "arousal"])  # a corpus without arousal labels
    with pytest.raises(KeyError, match="dominance"):
        dims_array(ds, ["dominance"])  # column absent


def test_ccc_and_spearman_on_hand_made_cases():
    refs = np.array([[1.0], [2.0], [3.0], [4.0]])
    same = dims_metrics(refs, refs, ["arousal"])["per_dim"]["arousal"]
    assert same["ccc"] == pytest.approx(1.0) and same["spearman"] == pytest.approx(1.0) and same["mae"] == 0.0
    # A shift keeps Pearson at 1 but CCC penalises it: CCC = 2 cov / (var_x + var_y + (mean diff)^2)
    # = 2 * 1.25 / (1.25 + 1.25 + 1) = 5 / 7.
    shifted = dims_metrics(refs, refs + 1.0, ["arousal"])["per_dim"]["arousal"]
    assert shifted["pearson"] == pytest.approx(1.0)
    assert shifted["ccc"] == pytest.approx(5 / 7)
    # A monotone but non-linear prediction: Spearman 1, Pearson below 1.
    cubic = dims_metrics(refs, refs**3, ["arousal"])["per_dim"]["arousal"]
    assert cubic["spearman"] == pytest.approx(1.0) and cubic["pearson"] < 0.99
    # Reversed order: Spearman -1.
    assert dims_metrics(refs, -refs, ["arousal"])["per_dim"]["arousal"]["spearman"] == pytest.approx(-1.0)


def test_dims_metrics_leaves_out_rows_without_targets():
    refs = np.array([[1.0, 0.0], [2.0, np.nan], [3.0, 1.0], [4.0, 2.0]])
    preds = np.array([[1.0, 0.0], [100.0, 100.0], [3.0, 1.0], [4.0, 2.0]])
    out = dims_metrics(refs, preds, ["valence", "arousal"])
    assert out["n"] == 3
    assert out["per_dim"]["valence"]["ccc"] == pytest.approx(1.0)
    assert out["mean_ccc"] == pytest.approx(1.0)


def test_regression_run_on_fixture_data_with_dimensional_labels(tmp_path):
    """Arousal rises with a tone's loudness and pitch; a few steps of log-mel CNN regression must learn it."""
    rows = []
    for i in range(12):
        level = i / 11
        path = write_wav(tmp_path / f"clip_{i:02d}.wav", freq_hz=200.0 + 1400.0 * level, seconds=0.4 + 0.05 * (i % 3), seed=i)
        rows.append({"path": str(path), "arousal": level, "valence": None if i == 5 else 1.0 - level})
    ds = datasets.Dataset.from_list(rows)
    targets = dims_array(ds, ["arousal", "valence"])
    assert np.isnan(targets[5, 1])
    waves = [load_audio(p)[0] * (0.2 + 2.0 * lvl) for p, lvl in zip(ds["path"], ds["arousal"])]
    train = ClipDataset(lambda i: waves[i], [-100] * len(waves), dims=targets)
    batch = Collator()([train[i] for i in range(len(train))])
    assert batch["dims"].shape == (12, 2)

    torch.manual_seed(0)
    model = build_baseline("logmel_cnn", id2label={}, task="regression", dims=["arousal", "valence"],
                           options={"channels": [8, 16], "n_mels": 32}, dropout=0.0, seed=0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = model(batch["input_values"], batch["attention_mask"], dims=batch["dims"]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    model.eval()
    with torch.no_grad():
        preds = model(batch["input_values"], batch["attention_mask"]).dims.numpy()
    scores = dims_metrics(targets, preds, ["arousal", "valence"])
    assert scores["n"] == 11  # the clip without valence is not scored
    assert scores["per_dim"]["arousal"]["spearman"] > 0.5
