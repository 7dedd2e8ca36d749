import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModelForAudioClassification

from hf_ser.baselines import BASELINES, BaselineForSequenceClassification, build_baseline, masked_ccc_loss
from hf_ser.baselines.encoders import RecurrentEncoder
from hf_ser.baselines.frame_features import FrameFeatures, RunningStandardizer
from hf_ser.data.batching import Collator
from hf_ser.models import SerOutput, concordance_correlation_loss

SR = 16_000
# Small but real settings: a few steps on CPU in well under a second per kind (the Issa feature extraction,
# cached after the first epoch, dominates).
SMALL_OPTIONS = {
    "issa_cnn": {"channels": [8, 16], "feature_cache_dir": None},
    "issa_mlp": {"hidden_sizes": [32], "feature_cache_dir": None},
    "mfcc_rnn": {"cell": "gru", "bidirectional": True, "hidden_size": 16, "win_ms": [25, 50]},
    "logmel_cnn": {"channels": [4, 8], "n_mels": 32},
    "logmel_bilstm": {"hidden_size": 16, "n_mels": 32},
}


def _clips(n_per_class: int = 3) -> tuple[list[np.ndarray], list[int]]:
    """Two 'emotions' a listener can tell apart: low quiet tones vs high loud tones, of varying length."""
    rng = np.random.default_rng(0)
    waves, labels = [], []
    for label, (freq, amp) in enumerate(((220.0, 0.1), (1760.0, 0.5))):
        for k in range(n_per_class):
            n = int(SR * (0.4 + 0.1 * k))
            t = np.arange(n) / SR
            waves.append((amp * np.sin(2 * np.pi * freq * (1 + 0.05 * k) * t) + 0.01 * rng.standard_normal(n)).astype(np.float32))
            labels.append(label)
    return waves, labels


def _batch(waves, labels, dims=None) -> dict[str, torch.Tensor]:
    items = [{"wave": w, "label": lab, "index": i} for i, (w, lab) in enumerate(zip(waves, labels))]
    if dims is not None:
        for it, d in zip(items, dims):
            it["dims"] = np.asarray(d, dtype=np.float32)
    return Collator()(items)


@pytest.mark.parametrize("kind", sorted(BASELINES))
def test_each_kind_trains_saves_and_loads(kind, tmp_path):
    assert set(SMALL_OPTIONS) == set(BASELINES)  # a new kind needs small test options here
    waves, labels = _clips()
    batch = _batch(waves, labels)
    model = build_baseline(kind, id2label={0: "calm", 1: "angry"}, options=SMALL_OPTIONS[kind], seed=0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        out = model(batch["input_values"], batch["attention_mask"], labels=batch["labels"])
        assert isinstance(out, SerOutput)
        assert out.logits.shape == (len(waves), 2)
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(out.loss.item())
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())

    model.eval()
    with torch.no_grad():
        expected = model(batch["input_values"], batch["attention_mask"]).logits
    model.save_pretrained(tmp_path / "model")
    loaded = type(model).from_pretrained(tmp_path / "model").eval()
    assert loaded.config.kind == kind and loaded.config.id2label == {0: "calm", 1: "angry"}
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch["input_values"], batch["attention_mask"]).logits, expected)
    # The Auto classes find it too (what pipeline("audio-classification") uses).
    assert isinstance(AutoConfig.from_pretrained(tmp_path / "model"), type(model.config))
    auto = AutoModelForAudioClassification.from_pretrained(tmp_path / "model")
    assert isinstance(auto, BaselineForSequenceClassification)


def test_unknown_kind_and_option_are_named():
    with pytest.raises(KeyError, match="issa_cnn"):
        build_baseline("svm_rbf", id2label={0: "a"})
    with pytest.raises(TypeError, match="n_layers"):
        build_baseline("mfcc_rnn", id2label={0: "a"}, options={"n_layers": 2})
    with pytest.raises(KeyError, match="gru"):
        build_baseline("mfcc_rnn", id2label={0: "a"}, options={"cell": "transformer"})


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_cells_and_directions(cell, bidirectional):
    encoder = RecurrentEncoder("mfcc", cell=cell, bidirectional=bidirectional, hidden_size=8, win_ms=[20, 40])
    assert isinstance(encoder.rnn, {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell])
    assert encoder.frames.output_size == 13 * 3 * 2  # MFCC + delta + delta-delta, per window size
    values = torch.randn(2, 8000)
    mask = torch.ones(2, 8000, dtype=torch.long)
    mask[1, 4000:] = 0
    encoder.eval()
    out = encoder(values * mask, mask)
    assert out.shape == (2, 8 * (2 if bidirectional else 1))
    # Per-clip features and packing: a clip's vector depends neither on the padding values behind it nor on
    # the batch it is in.
    noisy = values * mask + torch.randn(2, 8000) * (1 - mask)
    torch.testing.assert_close(encoder(noisy, mask), out)
    torch.testing.assert_close(encoder(values[1:, :4000])[0], out[1], atol=1e-5, rtol=1e-4)


def test_frame_features_mask_and_deltas():
    feats = FrameFeatures("mfcc", win_ms=[25], hop_ms=10, n_mfcc=13)
    values = torch.randn(2, 16000)
    mask = torch.ones(2, 16000, dtype=torch.long)
    mask[1, 8000:] = 0
    out, frame_mask = feats(values, mask)
    assert out.shape == (2, 101, 39)
    assert frame_mask[0].sum() == 101 and frame_mask[1].sum() == 51  # center framing: samples // hop + 1
    assert torch.all(out[1, 51:] == 0)
    # Delta of a constant signal's MFCC is zero: the delta block of a DC clip is ~0.
    dc, _ = feats(torch.ones(1, 16000))
    assert dc[0, 5:-5, 13:].abs().max() < 1e-3


def test_running_standardizer_matches_dataset_statistics():
    torch.manual_seed(0)
    data = torch.randn(50, 3) * torch.tensor([100.0, 1.0, 0.01]) + torch.tensor([5.0, -2.0, 0.0])
    std = RunningStandardizer(3)
    for chunk in data.split([1, 7, 20, 22]):  # uneven batches, including one clip alone
        std(chunk)
    torch.testing.assert_close(std.mean, data.mean(dim=0), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(std.var, data.var(dim=0, unbiased=False), rtol=1e-4, atol=1e-6)
    std.eval()
    out = std(data)
    torch.testing.assert_close(out.mean(dim=0), torch.zeros(3), atol=1e-4, rtol=0)
    before = std.mean.clone()
    std(data * 10)  # eval mode never updates
    torch.testing.assert_close(std.mean, before)


def test_multitask_loss_is_sum_and_nan_dims_are_left_out():
    waves, labels = _clips(2)
    dims = [[0.1, 0.2], [0.3, float("nan")], [0.9, 0.8], [0.7, 0.6]]
    batch = _batch(waves, labels, dims)
    model = build_baseline(
        "logmel_cnn", id2label={0: "calm", 1: "angry"}, task="multitask", dims=["valence", "arousal"],
        options=SMALL_OPTIONS["logmel_cnn"], dropout=0.0, seed=0,
    ).eval()
    out = model(batch["input_values"], batch["attention_mask"], labels=batch["labels"], dims=batch["dims"])
    assert out.dims.shape == (4, 2) and out.logits.shape == (4, 2)
    ce = torch.nn.functional.cross_entropy(out.logits, batch["labels"])
    keep = torch.tensor([True, False, True, True])
    ccc = concordance_correlation_loss(out.dims[keep], batch["dims"][keep])
    torch.testing.assert_close(out.loss, ce + ccc)
    assert torch.isfinite(out.loss)
    # Fewer than two labelled rows: no regression signal, but still a graph to backpropagate through.
    lonely = masked_ccc_loss(out.dims[:2], batch["dims"][:2].clone().fill_(float("nan")))
    assert lonely.item() == 0.0 and lonely.requires_grad


def test_regression_task_puts_dims_in_logits():
    waves, labels = _clips(2)
    batch = _batch(waves, labels, [[0.1], [0.2], [0.8], [0.9]])
    model = build_baseline("issa_mlp", id2label={}, task="regression", dims=["arousal"], options=SMALL_OPTIONS["issa_mlp"])
    out = model(batch["input_values"], batch["attention_mask"], dims=batch["dims"])
    assert model.config.id2label == {0: "arousal"}
    assert out.logits.shape == (4, 1) and torch.equal(out.logits, out.dims)
    assert 0.0 <= out.loss.item() <= 2.0


def test_a_saved_config_never_chooses_the_feature_cache_folder(tmp_path, monkeypatch):
    """``feature_cache_dir`` in a saved ``config.json`` is ignored on load: features go under ``$HF_SER_CACHE``."""
    import json

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    elsewhere = tmp_path / "elsewhere"
    model = build_baseline("issa_mlp", id2label={0: "calm", 1: "angry"}, options={"hidden_sizes": [8]}, seed=0)
    model.save_pretrained(tmp_path / "model")
    config_file = tmp_path / "model" / "config.json"
    config = json.loads(config_file.read_text())
    config["options"]["feature_cache_dir"] = str(elsewhere)  # as a crafted or moved file would say
    config_file.write_text(json.dumps(config))

    loaded = AutoModelForAudioClassification.from_pretrained(tmp_path / "model")
    assert loaded.config.options["feature_cache_dir"] == "auto"
    batch = _batch(*_clips(1))
    loaded(batch["input_values"], batch["attention_mask"])
    assert not elsewhere.exists()
    assert len(list((tmp_path / "cache" / "features" / "issa193").rglob("*.npy"))) == 2
