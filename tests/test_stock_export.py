"""``hf-ser export transformers``: stock transformers classes with hf_ser's logits, refusals with the reason, and
the exported demo model in a plain pipeline in a process where hf_ser cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hf_ser.models import build_feature_extractor, build_model
from hf_ser.stock_export import (
    TOLERANCE,
    StockFormRefused,
    _stock_model,
    export_transformers,
    logit_differences,
    stock_form_refusal,
)

REPO = Path(__file__).parents[1]
ID2LABEL = {0: "neutral", 1: "happy", 2: "sad"}


def _saved(folder: Path, shape: str = "tiny", **kwargs) -> Path:
    model = build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, **kwargs)
    model.save_pretrained(folder / "model")
    build_feature_extractor().save_pretrained(folder / "model")
    return folder / "model"


@pytest.mark.parametrize(
    ("shape", "options", "class_name"),
    [
        ("tiny", {"num_frozen_layers": 1}, "Wav2Vec2ForSequenceClassification"),
        ("tiny", {"layers": 2}, "Wav2Vec2ForSequenceClassification"),
        ("tiny-wav2vec2-base", {"layers": "weighted"}, "Wav2Vec2ForSequenceClassification"),
        ("tiny-hubert", {}, "HubertForSequenceClassification"),
        ("tiny-wavlm", {"num_frozen_layers": 1}, "WavLMForSequenceClassification"),
    ],
)
def test_stock_class_gives_hf_sers_logits_alone_and_padded(shape, options, class_name, tmp_path):
    report = export_transformers(_saved(tmp_path, shape, **options), tmp_path / "out")
    assert report.class_name == class_name
    assert set(report.max_abs_diff) == {"0.5 s", "3 s", "3 s + 0.5 s padded"}
    assert max(report.max_abs_diff.values()) < TOLERANCE
    config = json.loads((tmp_path / "out/config.json").read_text())
    assert config["architectures"] == [class_name] and "auto_map" not in config
    assert not list((tmp_path / "out").glob("*.py"))


def test_the_check_catches_a_stock_model_that_differs():
    """Not vacuous: one changed projector weight is seen."""
    ser = build_model(backbone="shape:tiny", id2label=ID2LABEL, seed=0).eval()
    stock = _stock_model(ser)
    assert max(logit_differences(ser, stock, normalize=True).values()) < TOLERANCE
    with torch.no_grad():
        stock.projector.weight[0, 0] += 0.5
    assert max(logit_differences(ser, stock, normalize=True).values()) > TOLERANCE


@pytest.mark.parametrize(
    ("shape", "options", "reason"),
    [
        ("tiny", {"pooling": "attention"}, "pooling 'attention'"),
        ("tiny", {"pooling": "bilstm"}, "pooling 'bilstm'"),
        ("tiny", {"head_hidden_size": 8}, "hidden ReLU layer"),
        ("tiny", {"task": "regression", "dims": ["valence"]}, "regression"),
        ("tiny-whisper", {}, "WhisperForAudioClassification"),
        ("tiny-data2vec-audio", {}, "padding"),
    ],
)
def test_heads_without_an_exact_stock_form_are_refused_with_the_reason(shape, options, reason):
    model = build_model(backbone=f"shape:{shape}", id2label=ID2LABEL, seed=0, **options)
    assert reason in stock_form_refusal(model.config)


def test_push_form_of_a_folder_transformers_cannot_read_is_the_folder_as_saved(tmp_path):
    from hf_ser.stock_export import pushed_model_form

    (tmp_path / "model").mkdir()
    (tmp_path / "model/config.json").write_text(json.dumps({"model_type": "not-a-transformers-type"}))
    files, note = pushed_model_form(tmp_path / "model", tmp_path / "work")
    assert files == {} and note.startswith("Pushed as saved")


def test_cli_refusal_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    from hf_ser.cli import main as cli_main

    model_dir = _saved(tmp_path, pooling="attention")
    assert cli_main(["export", "transformers", str(model_dir), str(tmp_path / "out")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("hf-ser export:")]
    assert len(err) == 2 and "pooling 'attention'" in err[0] and "hf-ser export onnx" in err[1]
    assert not (tmp_path / "out").exists()
    with pytest.raises(StockFormRefused):
        export_transformers(model_dir, tmp_path / "out")


_PLAIN_PIPELINE = """
import json, sys
sys.modules["hf_ser"] = None  # `import hf_ser` raises ImportError in this process
try:
    import hf_ser  # noqa: F401
    sys.exit("hf_ser imported")
except ImportError:
    pass
import numpy as np
from transformers import pipeline
classifier = pipeline("audio-classification", model=sys.argv[1])
wave = np.load(sys.argv[2])
print(json.dumps(classifier({"raw": wave, "sampling_rate": 16000}, top_k=None)))
"""


def test_exported_demo_model_loads_in_a_plain_pipeline_without_hf_ser(tmp_path, monkeypatch, capsys):
    """Done-when of issue 25 item 4: `hf-ser export transformers` on the (briefly) trained demo model; the folder
    loads in `pipeline("audio-classification")` in a process where hf_ser cannot be imported, without
    trust_remote_code, with the top label hf_ser's own pipeline gives."""
    import soundfile as sf
    from transformers import pipeline

    from hf_ser.cli import main as cli_main
    from hf_ser.train import main as train_main

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    assert train_main([str(REPO / "recipes/demo/ravdess_tiny.yaml"), f"train.output_dir={run}", "train.max_steps=1", "train.batch_size=4"]) == 0
    out = tmp_path / "stock"
    assert cli_main(["export", "transformers", str(run / "model"), str(out)]) == 0
    assert "Wav2Vec2ForSequenceClassification" in capsys.readouterr().out

    wav = REPO / "hf_ser/demo_data/ravdess/Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-02-01-01.wav"
    wave, sr = sf.read(wav, dtype="float32")
    assert sr == 16000
    np.save(tmp_path / "wave.npy", wave)
    expected = pipeline("audio-classification", model=str(run / "model"))({"raw": wave, "sampling_rate": sr}, top_k=None)
    done = subprocess.run(
        [sys.executable, "-c", _PLAIN_PIPELINE, str(out), str(tmp_path / "wave.npy")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got[0]["label"] == expected[0]["label"]
    assert {r["label"]: r["score"] for r in got} == pytest.approx({r["label"]: r["score"] for r in expected}, abs=1e-5)


def test_readme_export_line_runs_as_written(tmp_path, monkeypatch):
    """The README's "Serving and the stock transformers form" command block, run as written in a folder laid out
    like the repository after `make demo` (runs/demo/model: an hf_ser model of the demo's shape)."""
    import re
    import shlex

    from hf_ser.cli import main as cli_main

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Serving and the stock transformers form"):]
    section = section[: section.index("\n## ", 1)]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines and all(line.startswith("hf-ser ") for line in lines)
    _saved(tmp_path / "runs" / "demo")
    monkeypatch.chdir(tmp_path)
    for line in lines:
        assert cli_main(shlex.split(line)[1:]) == 0, line
    config = json.loads((tmp_path / "runs/demo/model-transformers/config.json").read_text())
    assert config["architectures"] == ["Wav2Vec2ForSequenceClassification"]
