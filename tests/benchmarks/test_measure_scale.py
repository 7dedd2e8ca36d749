"""benchmarks/make_scale_corpus.py and benchmarks/measure_scale.py on a tiny corpus: the scaling table's machinery."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_generator_writes_short_clips_the_manifest_loader_reads(tmp_path):
    make = _script("make_scale_corpus")
    manifest = make.make_corpus(tmp_path / "c", 12, speakers=3, seed=1)
    lines = manifest.read_text().splitlines()
    assert lines[0] == "path,label,speaker,gender" and len(lines) == 13
    durations = [sf.info(tmp_path / "c" / line.split(",")[0]).duration for line in lines[1:]]
    assert all(0.5 <= d <= 2.0 for d in durations)
    from hf_ser.corpora import load_corpus

    ds, log = load_corpus("manifest", tmp_path / "c")
    assert len(ds) == 12 and log.reconciles() and len(set(ds["speaker"])) == 3


@pytest.mark.slow  # six child processes over two corpora: a measurement, run by `make test-slow`
def test_measure_scale_prints_phases_and_growth_exponents(tmp_path):
    make = _script("make_scale_corpus")
    for n in (8, 16):
        make.make_corpus(tmp_path / f"c{n}", n, speakers=5)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "measure_scale.py"), "--scan", "--json",
         "--phases", "warm,folds,epoch", str(tmp_path / "c8"), str(tmp_path / "c16")],
        check=True, capture_output=True, text=True, env=env, timeout=600,
    ).stdout
    by_size = {int(k): v for k, v in json.loads(out).items()}
    assert sorted(by_size) == [8, 16]
    for n, rows in by_size.items():
        assert [r["phase"] for r in rows] == ["warm", "folds", "epoch"]
        assert all(r["seconds"] > 0 and r["peak_rss_anon_mb"] > 0 for r in rows)
        assert next(r for r in rows if r["phase"] == "warm")["clips"] == n
    epoch = next(r for r in by_size[16] if r["phase"] == "epoch")
    assert 0 < epoch["clips"] < 16 and epoch["audio_s"] > 0 and 0 < epoch["real_frames"] <= 1
    table = _script("measure_scale").format_table(by_size)
    assert "exp 8->16" in table and table.count("\n") == 1 + 3 + 1  # header, rule, 3 phases, epoch rate


@pytest.mark.slow  # a child process training and evaluating a 30-clip corpus: a measurement, run by `make test-slow`
def test_train20_splits_the_run_and_counts_what_evaluation_scored(tmp_path):
    _script("make_scale_corpus").make_corpus(tmp_path / "c", 30, speakers=5)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "measure_scale.py"), "--json", "--phases", "train20", str(tmp_path / "c")],
        check=True, capture_output=True, text=True, env=env, timeout=600,
    ).stdout
    (row,) = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert row["phase"] == "train20" and row["clips"] == 30
    assert row["steps_s"] > 0 and row["eval_s"] > 0 and row["outside_s"] > 0
    assert abs(row["steps_s"] + row["eval_s"] + row["outside_s"] - row["seconds"]) < 1e-6
    # Validation (one speaker, at every epoch end: 24 training clips make 3 steps) and test (one speaker): 6 clips
    # of 0.5-2 s each, one window per clip, a single batch per pass (batch_size 8).
    assert row["eval_batches"] >= 2 and row["eval_windows"] == 6 * row["eval_batches"]
    assert 0.5 * row["eval_windows"] <= row["eval_audio_s"] <= 2 * row["eval_windows"]
    assert 0 < row["eval_real_frames"] <= 1 and row["cpu_s"] > 0
