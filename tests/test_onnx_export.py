"""ONNX export: parity with PyTorch on several lengths and batch compositions, the CLI, predict --backend onnx."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hf_ser.models import build_feature_extractor, build_model
from hf_ser.onnx_export import TOLERANCE, ExportError, check_parity, export_onnx

REPO = Path(__file__).parents[1]
ID2LABEL = {0: "neutral", 1: "happy", 2: "sad"}


def _saved(tmp_path: Path, shape: str = "tiny", **kwargs) -> Path:
    model = build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, num_frozen_layers=1, **kwargs)
    model.save_pretrained(tmp_path / "model")
    build_feature_extractor().save_pretrained(tmp_path / "model")
    return tmp_path / "model"


@pytest.mark.parametrize(
    ("shape", "pooling"),
    [("tiny", "mean"), ("tiny", "stats"), ("tiny", "attention"), ("tiny-whisper", "mean"), ("tiny-whisper", "attention"), ("tiny-wavlm", "mean")],
)
def test_exported_logits_match_pytorch_on_several_lengths_and_a_padded_batch(shape, pooling, tmp_path):
    model_dir = _saved(tmp_path, shape, pooling=pooling, layers="weighted" if pooling == "attention" else "last")
    report = export_onnx(model_dir, tmp_path / "model.onnx")
    assert set(report.max_abs_diff) == {"0.5 s", "3 s", "3 s + 0.5 s padded"}
    assert report.ok and max(report.max_abs_diff.values()) < TOLERANCE


def test_parity_check_fails_on_a_graph_that_differs(tmp_path):
    """The check is not vacuous: an ONNX file of another model (other weights) is caught."""
    export_onnx(_saved(tmp_path / "a"), tmp_path / "a.onnx", check=False)
    other = build_model(backbone="shape:tiny", id2label=ID2LABEL, seed=1, num_frozen_layers=1)
    other.save_pretrained(tmp_path / "b")
    build_feature_extractor().save_pretrained(tmp_path / "b")
    report = check_parity(tmp_path / "b", tmp_path / "a.onnx")
    assert not report.ok


def test_bilstm_head_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ExportError, match="bilstm"):
        export_onnx(_saved(tmp_path, pooling="bilstm"), tmp_path / "model.onnx")


def test_cli_export_of_a_trained_demo_model_then_predict_with_onnxruntime(tmp_path, capsys, monkeypatch):
    """`hf-ser export onnx runs/demo/model model.onnx` on a (briefly) trained demo model, then
    `hf-ser predict --backend onnx` gives the PyTorch backend's scores."""
    from hf_ser.cli import main as cli_main
    from hf_ser.predict import predict_files
    from hf_ser.train import main as train_main

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    assert train_main([str(REPO / "recipes/demo/ravdess_tiny.yaml"), f"train.output_dir={run}", "train.max_steps=2", "train.batch_size=4"]) == 0
    onnx_path = tmp_path / "model.onnx"
    assert cli_main(["export", "onnx", str(run / "model"), str(onnx_path)]) == 0
    out = capsys.readouterr().out
    assert "parity 3 s + 0.5 s padded" in out and f"opset {17}" in out
    wavs = sorted((REPO / "hf_ser/demo_data/ravdess").rglob("*.wav"))[:3]
    torch_results = predict_files(run / "model", wavs)
    onnx_results = predict_files(onnx_path, wavs, backend="onnx")
    for a, b in zip(torch_results, onnx_results):
        assert a.label == b.label
        assert b.scores == pytest.approx(a.scores, abs=1e-5)
    assert cli_main(["predict", "--backend", "onnx", "--json", str(onnx_path), str(wavs[0])]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["label"] == torch_results[0].label
    assert np.isfinite(list(printed[0]["scores"].values())).all()
