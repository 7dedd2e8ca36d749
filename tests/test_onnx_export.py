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


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory):
    """The demo recipe, trained for 2 steps (runs/demo/model's layout)."""
    from hf_ser.train import main as train_main

    tmp = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_SER_CACHE", str(tmp / "cache"))
    run = tmp / "run"
    try:
        assert train_main([str(REPO / "recipes/demo/ravdess_tiny.yaml"), f"train.output_dir={run}", "train.max_steps=2", "train.batch_size=4"]) == 0
    finally:
        mp.undo()
    return run / "model"


def test_cli_export_of_a_trained_demo_model_then_predict_with_onnxruntime(demo_model, tmp_path, capsys):
    """`hf-ser export onnx runs/demo/model OUT --quantize int8` on a (briefly) trained demo model, then
    `hf-ser predict --backend onnx` gives the PyTorch backend's scores."""
    from hf_ser.cli import main as cli_main
    from hf_ser.predict import predict_files

    out = tmp_path / "onnx"
    wavs = sorted((REPO / "hf_ser/demo_data/ravdess").rglob("*.wav"))[:3]
    held_out = sorted((REPO / "hf_ser/demo_data/crema_d").rglob("*.wav"))[:4]
    argv = ["export", "onnx", str(demo_model), str(out), "--quantize", "int8", "--rounds", "1", "--check-audio", *map(str, held_out)]
    assert cli_main(argv) == 0
    printed = capsys.readouterr().out
    assert "parity 3 s + 0.5 s padded" in printed and f"opset {17}" in printed
    assert "int8 vs fp32 on 4 clips" in printed and "labels agree" in printed and "speed x" in printed
    assert {p.name for p in out.iterdir()} == {"model.onnx", "model.json", "model.int8.onnx", "model.int8.json"}
    settings = json.loads((out / "model.json").read_text())
    assert settings["labels"] and settings["inference_window_s"] > 0 and settings["min_samples"] > 1
    torch_results = predict_files(demo_model, wavs)
    onnx_results = predict_files(out, wavs, backend="onnx")
    for a, b in zip(torch_results, onnx_results):
        assert a.label == b.label
        assert b.probabilities == pytest.approx(a.probabilities, abs=1e-5)
    assert cli_main(["predict", "--backend", "onnx", "--json", str(out / "model.onnx"), str(wavs[0])]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["label"] == torch_results[0].label
    assert np.isfinite(list(printed[0]["probabilities"].values())).all()


def test_onnx_backend_runs_without_torch_or_transformers(demo_model, tmp_path):
    """hf_ser.load(folder, backend="onnx").predict and `hf-ser predict --backend onnx` in a fresh process: neither
    torch nor transformers is imported (a named ASR is refused, not built), and the numbers are the PyTorch
    model's."""
    import os
    import subprocess
    import sys

    import hf_ser

    out = tmp_path / "onnx"
    export_onnx(demo_model, out, check=False)
    wav = sorted((REPO / "hf_ser/demo_data/ravdess").rglob("*.wav"))[0]
    script = (
        "import json, sys\n"
        "import hf_ser\n"
        "from hf_ser import cli\n"
        "result = hf_ser.load(sys.argv[1], backend='onnx').predict(sys.argv[2])\n"
        "try:\n"
        "    hf_ser.load(sys.argv[1], backend='onnx', asr='shape:whisper-tiny')\n"
        "    refused = None\n"
        "except hf_ser.errors.UserError as e:\n"
        "    refused = str(e)\n"
        "assert cli.main(['predict', '--backend', 'onnx', '--no-progress', '--output', sys.argv[3], sys.argv[1], sys.argv[2]]) == 0\n"
        "print(json.dumps({'heavy': sorted({'torch', 'transformers'} & set(sys.modules)), 'result': result.to_dict(), 'refused': refused}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(out), str(wav), str(tmp_path / "rows.csv")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    # The ASR needs torch and transformers: the ONNX backend refuses a named recogniser in one line, naming the fix.
    assert "ONNX backend runs no ASR" in report["refused"] and "torch backend" in report["refused"]
    assert report["result"]["text_source"] == "none"
    expected = hf_ser.load(demo_model, device="cpu").predict(wav)
    assert report["result"]["label"] == expected.label
    assert report["result"]["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    assert (tmp_path / "rows.csv").read_text().count("\n") == 2  # header + one row


def test_demo_model_api_and_cli_give_the_same_numbers(demo_model, tmp_path):
    """hf_ser.load(runs/demo/model).predict(path) and `hf-ser predict FOLDER --output out.csv` agree."""
    import csv

    import hf_ser
    from hf_ser.cli import main as cli_main

    folder = REPO / "hf_ser/demo_data/ravdess/Audio_Speech_Actors_01-24/Actor_01"
    out = tmp_path / "out.csv"
    assert cli_main(["predict", str(demo_model), str(folder), "--output", str(out), "--no-progress"]) == 0
    rows = list(csv.DictReader(out.open()))
    model = hf_ser.load(demo_model, device="cpu")
    assert len(rows) == len(list(folder.glob("*.wav"))) and set(model.labels) == {k[2:] for k in rows[0] if k.startswith("p_")}
    for row in rows:
        result = model.predict(row["source"])
        assert row["label"] == result.label
        assert {lab: float(row[f"p_{lab}"]) for lab in model.labels} == pytest.approx(result.probabilities, abs=1e-6)


def test_export_never_prompts_for_a_folder_with_code_of_its_own(tmp_path, monkeypatch, capsys):
    """transformers asks "run the custom code? [y/N]" when it is not told; export tells it: the folder's code
    is refused in one line (exit 2) unless --trust-remote-code, and nothing is read from the terminal."""
    from hf_ser.cli import main as cli_main

    def no_prompt(*_):
        raise AssertionError("export asked on the terminal")

    monkeypatch.setattr("builtins.input", no_prompt)
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    model_dir = _saved(tmp_path)
    for name in ("config.json", "configuration_ser.py"):  # a model type of its own, which only its code defines
        path = model_dir / name
        path.write_text(path.read_text().replace('"hf_ser"', '"hf_ser_fork"'))
    assert cli_main(["export", "onnx", str(model_dir), str(tmp_path / "model.onnx")]) == 2
    assert "--trust-remote-code" in capsys.readouterr().err
    assert not (tmp_path / "model.onnx").exists()
    argv = ["export", "onnx", str(model_dir), str(tmp_path / "model.onnx"), "--trust-remote-code", "--no-check"]
    assert cli_main(argv) == 0
    assert (tmp_path / "model.onnx").is_file()
