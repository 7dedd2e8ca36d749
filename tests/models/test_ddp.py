import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def test_two_process_cpu_training_step_with_frozen_layers(tmp_path):
    """DDP without find_unused_parameters: fails if any trainable parameter is unused (frozen ones are ignored).

    Launched with torchrun rather than `accelerate launch --cpu --num_processes 2`: with accelerate 1.15 the
    latter runs a single process on a CPU-only machine (simple_launcher), which would test nothing.
    The script still runs through an Accelerator (gloo DDP).
    """
    script = Path(__file__).with_name("ddp_train_step.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    done = subprocess.run(
        [*command, str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert all(result["world"] == 2 for result in results)
    # different data per rank, yet identical weights: the gradients were all-reduced
    assert results[0]["loss"] != results[1]["loss"]
    assert results[0]["checksum"] == pytest.approx(results[1]["checksum"], rel=1e-9)
