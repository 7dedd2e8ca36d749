"""No foreign code by default: a model folder's Python never runs in predict / evaluate unless the user opts in,
and hf_ser's classes load a saved model after a plain `import hf_ser` (the README's pipeline line)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from forked_commands import Command, run_commands

from hf_ser import cli
from hf_ser.evaluation.inference import ForeignCodeError, check_model_code

REPO = Path(__file__).parents[2]
LABELS = ["anger", "happiness", "neutral"]


def _save_ser_model(model_dir: Path) -> Path:
    from hf_ser.models import build_feature_extractor, build_model

    build_model(backbone="shape:tiny", id2label=dict(enumerate(LABELS)), seed=0).save_pretrained(model_dir)
    build_feature_extractor().save_pretrained(model_dir)
    return model_dir


def _inject(model_dir: Path, marker: Path) -> None:
    """Append a line to the saved modeling file that leaves a marker file when executed."""
    with open(model_dir / "modeling_ser.py", "a") as f:
        f.write(f"\nopen({str(marker)!r}, 'w').write('ran')\n")


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), HF_MODULES_CACHE=str(tmp_path / "modules"), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return env


@pytest.fixture(scope="module")
def clean_model(tmp_path_factory):
    return _save_ser_model(tmp_path_factory.mktemp("clean") / "model")


def test_saved_folder_ships_hf_ser_code_and_is_accepted(clean_model):
    assert {"modeling_ser.py", "configuration_ser.py"} <= {p.name for p in clean_model.glob("*.py")}
    check_model_code(clean_model)  # hf_ser's own model type: loaded with the installed classes


def test_injected_code_is_never_run_by_predict_or_evaluate(tmp_path, monkeypatch, capsys, caplog, fake_corpus):
    """A folder of hf_ser's own type whose .py files were changed loads with the installed classes: its code
    neither runs nor blocks the load."""
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    model_dir = _save_ser_model(tmp_path / "model")
    marker = tmp_path / "ran.txt"
    _inject(model_dir, marker)
    wav = next(Path(fake_corpus).rglob("*.wav"))
    assert cli.main(["predict", str(model_dir), str(wav), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["label"] in LABELS
    argv = ["evaluate", str(model_dir), "--corpus", "fake", str(fake_corpus), "--n-boot", "0", "--no-progress",
            "--output", str(tmp_path / "eval")]
    assert cli.main(argv) == 0
    check_model_code(model_dir)
    assert not marker.exists(), "code from the model folder ran without opt-in"


def _fork(model_dir: Path) -> None:
    """Turn a saved hf_ser model into a model type of its own (a fork of hf_ser's code, not registered)."""
    for name in ("config.json", "configuration_ser.py"):
        path = model_dir / name
        path.write_text(path.read_text().replace('"hf_ser"', '"hf_ser_fork"'))


def test_trust_remote_code_is_an_explicit_opt_in(tmp_path):
    # Two copies of one forked folder, each leaving its own marker: the refused run and the opted-in one run
    # as two `python -m hf_ser.cli predict` processes forked from one interpreter (one torch import).
    refused_dir = _save_ser_model(tmp_path / "refused")
    _fork(refused_dir)
    opted_dir = Path(shutil.copytree(refused_dir, tmp_path / "opted_in"))
    refused_marker, opted_marker = tmp_path / "refused_ran.txt", tmp_path / "opted_in_ran.txt"
    _inject(refused_dir, refused_marker)
    _inject(opted_dir, opted_marker)
    wav = tmp_path / "x.wav"
    sf.write(wav, (0.3 * np.sin(np.arange(16000) / 5)).astype("float32"), 16000)
    env = _env(tmp_path)
    with pytest.raises(ForeignCodeError, match="'hf_ser_fork'"):
        check_model_code(refused_dir)
    refused, opted_in = run_commands(
        [
            Command("hf_ser.cli", ("predict", str(refused_dir), str(wav), "--json"), env),
            Command("hf_ser.cli", ("predict", str(opted_dir), str(wav), "--json", "--trust-remote-code"), env),
        ],
        env=env,
    )
    assert refused.returncode == 2 and "--trust-remote-code" in refused.stderr
    assert not refused_marker.exists()
    assert opted_in.returncode == 0, opted_in.stderr[-2000:]
    assert opted_marker.read_text() == "ran"  # the user asked for the folder's code, and got it
    assert json.loads(opted_in.stdout)[0]["label"] in LABELS


def _readme_pipeline_block() -> str:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    (block,) = [b for b in blocks if 'pipeline("audio-classification"' in b]
    return block


def test_readme_pipeline_lines_run_as_written_in_a_fresh_process(tmp_path):
    _save_ser_model(tmp_path / "runs" / "demo" / "model")
    (tmp_path / "hf_ser").mkdir()
    (tmp_path / "hf_ser" / "demo_data").symlink_to(REPO / "hf_ser" / "demo_data")
    block = _readme_pipeline_block()
    assert "trust_remote_code" not in block
    proc = subprocess.run([sys.executable, "-c", block], env=_env(tmp_path), capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert any(label in proc.stdout for label in LABELS)


def test_pipeline_without_hf_ser_needs_trust_remote_code(tmp_path):
    model_dir = _save_ser_model(tmp_path / "model")
    code = (
        "import json, sys, numpy as np\n"
        "from transformers import pipeline\n"
        "assert 'hf_ser' not in sys.modules\n"
        f"clf = pipeline('audio-classification', model={str(model_dir)!r}, trust_remote_code=True)\n"
        "out = clf({'raw': (0.3 * np.sin(np.arange(16000) / 5)).astype('float32'), 'sampling_rate': 16000})\n"
        "assert 'hf_ser' not in sys.modules, 'the saved code must not import hf_ser'\n"
        "print(json.dumps(out))\n"
    )
    env = _env(tmp_path)
    env.pop("PYTHONPATH")  # hf_ser is importable only from the repository (and the installed copy): run elsewhere
    env["PYTHONNOUSERSITE"] = "1"
    proc = subprocess.run([sys.executable, "-I", "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {r["label"] for r in json.loads(proc.stdout.strip().splitlines()[-1])} <= set(LABELS)


@pytest.mark.parametrize("first", ["import hf_ser", "import hf_ser.models", "import hf_ser.baselines"])
def test_hf_ser_classes_are_registered_whatever_is_imported_first(tmp_path, first):
    code = (
        "import sys\n"
        f"{first}\n"
        "cheap = 'torch' not in sys.modules\n"
        "from transformers import CONFIG_MAPPING, AutoModelForAudioClassification\n"
        "names = {c.__name__ for c in AutoModelForAudioClassification._model_mapping._extra_content}\n"
        "assert {'SerConfig', 'BaselineConfig'} <= names, names\n"
        "assert 'hf_ser' in CONFIG_MAPPING and 'hf_ser_baseline' in CONFIG_MAPPING\n"
        "print(cheap)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if first == "import hf_ser":
        assert proc.stdout.strip() == "True"  # `import hf_ser` alone imports no torch
