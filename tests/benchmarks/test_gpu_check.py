"""benchmarks/gpu_check.sh in its CPU mode (tiny shape): every part runs and prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # every part, every variant and the Trainer bench: a measurement (minutes), run by `make test-slow`
def test_gpu_check_cpu_mode_prints_every_figure(tmp_path):
    env = {**os.environ, "GPU_CHECK_OUT": str(tmp_path), "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--cpu", "--variants", "sdpa,eager,cache,finetune", "--bench-clips", "8",
         "--bench-epochs", "1"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = done.stdout.split("--- summary", 1)[1]
    for variant in ("sdpa", "eager", "cache", "finetune"):
        assert f"features {variant}" in summary
    assert "effect   eager" in summary and "epoch 2 / epoch 1" in summary
    assert "epoch 2 (cached) / full fine-tuning epoch" in summary
    assert "bench    baseline train audio-s/s" in summary and "bench    hf_ser   train audio-s/s" in summary
    assert "speed-up" in summary
    results = json.loads(next(tmp_path.glob("gpu_check_*.json")).read_text())
    assert results["header"]["device"] == "cpu" and results["header"]["shape"]["backbone"] == "shape:tiny"
    cache = next(r for r in results["features"] if r["variant"] == "cache")
    assert len(cache["audio_s_per_s"]) == 2 and cache["epoch2_over_epoch1"] > 0
    finetune = next(r for r in results["features"] if r["variant"] == "finetune")
    assert finetune["frozen_layers"] == 0 and cache["frozen_layers"] == results["header"]["shape"]["frozen"] > 0
    assert results["bench"]["paths"]["baseline"]["train_audio_s_per_s"] > 0
    assert (tmp_path / next(tmp_path.glob("gpu_check_*.txt")).name).read_text().count("features") >= 3


def test_cache_bounds_follow_the_flop_model():
    """At the XLS-R-300M shape the printed bounds are the FLOP model's: x1.45 at 12 of 24 frozen against epoch 1,
    x2.16 against full fine-tuning (the x2.2 of the project's performance notes)."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gpu_check import cache_effect_lines
    finally:
        sys.path.pop(0)
    ref = {"cache": {"frozen_layers": 12, "audio_s_per_s": [1.0, 1.3]}, "finetune": {"frozen_layers": 0, "audio_s_per_s": [0.6, 0.65]}}
    lines = cache_effect_lines(ref, {"backbone": "shape:xls-r-300m", "layers": 24})
    assert lines[0].endswith("x1.30 (FLOP model bound x1.45)")
    assert lines[1].endswith("x2.00 (FLOP model bound x2.16)")
    assert "bound" not in " ".join(cache_effect_lines(ref, {"backbone": "shape:tiny", "layers": 2}))


def test_gpu_check_features_part_times_the_cache_against_full_fine_tuning(tmp_path, capsys):
    """The features part alone on the tiny shape: both variants train two epochs and the summary compares them."""
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from gpu_check import main
    finally:
        sys.path.pop(0)
    out = tmp_path / "check.json"
    assert main(["--cpu", "--parts", "features", "--variants", "cache,finetune", "--clips", "4", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    by_variant = {r["variant"]: r for r in results["features"]}
    assert set(by_variant) == {"cache", "finetune"}
    assert by_variant["cache"]["frozen_layers"] > 0 == by_variant["finetune"]["frozen_layers"]
    assert len(by_variant["cache"]["audio_s_per_s"]) == 2 and by_variant["cache"]["epoch2_over_epoch1"] > 0
    assert "epoch 2 (cached) / full fine-tuning epoch" in capsys.readouterr().out
