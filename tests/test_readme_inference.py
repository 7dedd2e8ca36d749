"""The README's "Emotion on real audio" lines, run as written: the Python block in a fresh process and every
`hf-ser` line through the command line, in a folder laid out like the repository after `make demo`."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from audio_fixtures import write_three_bursts

from hf_ser import cli

REPO = Path(__file__).parents[1]
SECTION = "## Emotion on real audio"
LABELS = ["angry", "happy", "neutral", "sad"]


def _blocks(kind: str) -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(SECTION) :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(rf"```{kind}\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """runs/demo/model (an hf_ser tiny model), hf_ser/demo_data and interview.wav, as the README's lines expect."""
    from hf_ser.models import build_feature_extractor, build_model

    root = tmp_path_factory.mktemp("repo")
    model_dir = root / "runs" / "demo" / "model"
    build_model(backbone="shape:tiny", id2label=dict(enumerate(LABELS)), seed=0).save_pretrained(model_dir)
    build_feature_extractor().save_pretrained(model_dir)
    (root / "hf_ser").mkdir()
    (root / "hf_ser" / "demo_data").symlink_to(REPO / "hf_ser" / "demo_data")
    write_three_bursts(root / "interview.wav")
    return root


def test_readme_python_block_runs_as_written(demo_dir):
    (block,) = _blocks("python")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", block], cwd=demo_dir, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[0] in LABELS and all(f"'{lab}'" in lines[0] for lab in LABELS)
    assert "'top_k'" in lines[1]
    start, end, label = lines[2].split()
    assert 0.0 <= float(start) < float(end) and label in LABELS


def test_readme_command_lines_run_as_written(demo_dir, monkeypatch, capsys):
    (block,) = _blocks("bash")
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 5 and all(line.startswith("hf-ser ") for line in lines)
    monkeypatch.chdir(demo_dir)
    for line in lines:
        assert cli.main(shlex.split(line)[1:] + ["--no-progress"] * ("predict" in line)) == 0, line
    err = capsys.readouterr().err
    rows = list(csv.DictReader((demo_dir / "predictions.csv").open()))
    wavs = sorted((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav"))
    assert len(rows) == len(wavs) and all(row["label"] in LABELS and row["top3"] for row in rows)
    assert f"{len(wavs)} already in predictions.csv" in err  # the --resume line found every file done
    segments = list(csv.DictReader((demo_dir / "segments.csv").open()))
    assert [r["kind"] for r in segments] == ["segment"] * 3 + ["file"]
    assert (demo_dir / "timelines" / "interview.wav.png").is_file()
    assert {p.name for p in (demo_dir / "onnx").iterdir()} >= {"model.onnx", "model.json", "model.int8.onnx"}
    records = [json.loads(x) for x in (demo_dir / "onnx_predictions.jsonl").read_text().splitlines()]
    assert records and all(r["label"] in LABELS or r["error"] for r in records)  # one demo clip is silent
    assert sum(r["label"] in LABELS for r in records) == len(records) - 1
