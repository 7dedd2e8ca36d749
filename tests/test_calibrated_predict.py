"""The temperature a training run fitted travels with the model into hf_ser.load / hf-ser predict (and the ONNX
settings), never changes a label, and --min-confidence / min_confidence abstain below a threshold."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from audio_fixtures import write_wav
from hub.tiny_run import write_tiny_model

import hf_ser
from hf_ser.cli import main as cli_main
from hf_ser.inference.results import ABSTAIN

TEMPERATURE = 2.0


@pytest.fixture(scope="module")
def calibrated_dir(tmp_path_factory):
    """A tiny model whose config.json carries a fitted temperature, as training's ``record_calibration`` writes."""
    from hf_ser.training.saving import record_calibration

    model_dir = write_tiny_model(tmp_path_factory.mktemp("calibrated") / "model")
    record_calibration(model_dir, {"temperature": TEMPERATURE, "fitted_on": "validation", "clips": 10})
    return model_dir


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    for i in range(6):
        write_wav(folder / f"clip{i}.wav", seconds=1.0, freq_hz=150.0 + 90.0 * i, seed=i)
    return folder


def _logp(prediction) -> np.ndarray:
    return np.log(np.array(list(prediction.probabilities.values())))


def test_the_fitted_temperature_is_applied_and_never_changes_a_label(calibrated_dir, clips):
    raw = hf_ser.load(calibrated_dir, calibrated=False).predict(sorted(clips.glob("*.wav")))
    cal = hf_ser.load(calibrated_dir).predict(sorted(clips.glob("*.wav")))
    for r, c in zip(raw, cal):
        assert r.label == c.label
        # softmax(z / T): log-probabilities are the raw ones divided by T, up to a per-clip constant.
        diff = _logp(c) - _logp(r) / TEMPERATURE
        assert np.allclose(diff, diff[0], atol=1e-5)
        assert max(c.probabilities.values()) < max(r.probabilities.values())


def test_min_confidence_abstains_below_the_threshold_and_labels_the_rest(calibrated_dir, clips, tmp_path, capsys):
    model = hf_ser.load(calibrated_dir)
    tops = sorted(max(p.probabilities.values()) for p in model.predict(sorted(clips.glob("*.wav"))))
    threshold = (tops[1] + tops[-2]) / 2  # some clips on each side
    out = tmp_path / "out.csv"
    assert cli_main(["predict", str(calibrated_dir), str(clips), "--output", str(out), "--min-confidence",
                     str(threshold), "--no-progress"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 6
    for row in rows:
        top = max(float(v) for k, v in row.items() if k.startswith("p_"))
        assert (row["label"] == ABSTAIN) == (top < threshold), row
    assert {row["label"] == ABSTAIN for row in rows} == {True, False}
    # The summary line counts both, against the same threshold.
    abstained = sum(row["label"] == ABSTAIN for row in rows)
    assert f"6 files done ({6 - abstained} labelled, {abstained} abstained below {threshold:g})" in capsys.readouterr().err


def test_a_threshold_outside_0_1_is_one_line(calibrated_dir, clips, capsys):
    assert cli_main(["predict", str(calibrated_dir), str(clips), "--min-confidence", "1.5"]) == 2
    assert "min_confidence 1.5" in capsys.readouterr().err


def test_the_onnx_settings_carry_the_temperature(calibrated_dir, tmp_path, clips):
    out = tmp_path / "onnx"
    assert cli_main(["export", "onnx", str(calibrated_dir), str(out)]) == 0
    assert json.loads((out / "model.json").read_text())["temperature"] == TEMPERATURE
    torch_p = hf_ser.load(calibrated_dir).predict(clips / "clip3.wav")
    onnx_p = hf_ser.load(out, backend="onnx").predict(clips / "clip3.wav")
    assert onnx_p.label == torch_p.label
    assert np.allclose(_logp(onnx_p), _logp(torch_p), atol=1e-3)


def test_serve_applies_the_temperature_unless_started_with_no_calibration(calibrated_dir, monkeypatch):
    import uvicorn
    from fastapi.testclient import TestClient

    started = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(app))
    for flags, temperature in (([], TEMPERATURE), (["--no-calibration"], 1.0)):
        assert cli_main(["serve", str(calibrated_dir), *flags]) == 0
        assert TestClient(started.pop()).get("/v1/model").json()["temperature"] == temperature
