"""A 1-hour clip in an evaluation corpus: windowed evaluation keeps memory bounded and the run ends with
metrics.json, under a 10 GB address-space limit (whole-clip padding needed more than that)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).parents[2]
SR = 16_000


def _write_long_wav(path: Path, seconds: int, seed: int = 0) -> None:
    """A noisy tone, written a minute at a time (the test process never holds the hour)."""
    rng = np.random.default_rng(seed)
    with sf.SoundFile(path, "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
        for minute in range(0, seconds, 60):
            n = min(60, seconds - minute) * SR
            t = (np.arange(n) + minute * SR) / SR
            f.write((0.3 * np.sin(2 * np.pi * 170 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32))


@pytest.mark.slow  # about 30 s of CPU (two hours of audio through the tiny model), more on a busy machine
def test_one_hour_evaluation_clip_ends_with_metrics_under_10_gb(tmp_path):
    corpus = tmp_path / "long_corpus"
    corpus.mkdir()
    _write_long_wav(corpus / "hour.wav", 3600)
    rows = ["path,label,speaker", "hour.wav,anger,s1"]
    for k, (label, freq) in enumerate([("happiness", 260), ("neutral", 120), ("sadness", 90)]):
        t = np.arange(int(1.5 * SR)) / SR
        sf.write(corpus / f"short{k}.wav", (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SR)
        rows.append(f"short{k}.wav,{label},s{k + 2}")
    (corpus / "manifest.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    limit = 10 * 2**30
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
        "from hf_ser.train import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    argv = [
        str(REPO / "recipes" / "demo" / "ravdess_tiny.yaml"),
        f"train.output_dir={out}",
        "train.max_steps=2",
        "train.batch_size=4",
        "data.augment=[]",
        # 10-s windows: 719 windows of the hour (50 % overlap) instead of 7199 one-second ones; same rule.
        "data.max_duration_s=10.0",
        f"data.eval_corpora=[{{name: manifest, root: {corpus}}}]",
    ]
    env = dict(os.environ, HF_SER_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code, *argv], env=env, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "metrics.json").read_text())["results"]
    assert results["cross/manifest"]["n"] == 4  # the hour is scored as one clip, with the three short ones
    assert results["cross_unmasked/manifest"]["n"] == 4
