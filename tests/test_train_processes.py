"""Training in child processes: a kill -9 mid-run then --resume, and a real two-process DDP run over all folds
(apart from tests/test_train.py so that the test workers share the long runs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from forked_commands import Command, run_commands
from train_helpers import DEMO_RECIPE, FAST, REPO, train_args, train_cmd, train_env


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path):
    """kill -9 after the step-6 checkpoint, then --resume: the same model, bit for bit. With the weight average
    on (``train.ema_decay``): the average comes back from the checkpoint too, on top of model, optimizer, RNG."""
    steps = ["train.max_steps=14", "train.checkpoint_every_n_steps=3", "train.eval_every_n_steps=7", "train.ema_decay=0.9",
             "data.cache_dir=" + str(tmp_path / "cache")]
    env = train_env(tmp_path)
    run = tmp_path / "killed"
    proc = subprocess.Popen(train_cmd(run, *steps), env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (run / "checkpoints" / "step_00000006").exists():  # pytest-timeout bounds the wait
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "metrics.json").exists()
    # The uninterrupted reference and the resume: two processes forked from one interpreter (one torch import).
    ref = tmp_path / "reference"
    runs = [Command("hf_ser.train", tuple(train_args(ref, *steps)), env),
            Command("hf_ser.train", tuple(train_args(run, *steps, "--resume")), env)]
    for done in run_commands(runs, env=env):
        assert done.returncode == 0, done.stderr[-3000:]

    a = json.loads((ref / "metrics.json").read_text())
    b = json.loads((run / "metrics.json").read_text())
    assert a["results"] == b["results"] and a["best_step"] == b["best_step"]
    assert (run / "model" / "model.safetensors").read_bytes() == (ref / "model" / "model.safetensors").read_bytes()


def test_two_process_cpu_run_with_all_folds(tmp_path):
    out = tmp_path / "folds"
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file",
        str(REPO / "recipes" / "accelerate" / "cpu_2proc.yaml"),
        str(REPO / "hf_ser" / "train.py"), str(DEMO_RECIPE), f"train.output_dir={out}", *FAST,
        "train.max_steps=2", "data.protocol=speaker_kfold", "data.protocol_options={num_folds: 3}", "folds=all",
        "data.eval_corpora=[]",
    ]
    res = subprocess.run(cmd, env=train_env(tmp_path), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    folds = [json.loads((out / f"fold_{k}" / "metrics.json").read_text()) for k in range(3)]
    tests = [set(f["protocol"]["test_speakers"]) for f in folds]
    assert not (tests[0] & tests[1] or tests[0] & tests[2] or tests[1] & tests[2])  # speakers never cross folds
    for f in folds:  # every clip scored once over the two processes
        counts = f["protocol"]["counts"]
        assert [f["results"][f"{side}/ravdess"]["n"] for side in ("valid", "test")] == [counts["valid"], counts["test"]]
    agg = json.loads((out / "aggregate.json").read_text())
    ua = [f["results"]["test/ravdess"]["ua"] for f in folds]
    assert agg["results"]["test/ravdess"]["ua"]["mean"] == pytest.approx(np.mean(ua))
    assert agg["results"]["test/ravdess"]["ua"]["std"] == pytest.approx(np.std(ua, ddof=1))
    assert "mean ± std" in (out / "aggregate.md").read_text()
    # Both processes ran: each fold saw the same number of training batches on both ranks (even sharding).
    assert json.loads((out / "run_info.json").read_text())["num_processes"] == 2
