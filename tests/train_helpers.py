"""What the training tests share: the demo recipe, a fast variant of it, and a training subprocess's command line
and environment (one thread, offline, its own cache)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
# A short, fast variant of the demo: few steps, small batches, whole pipeline.
FAST = ["train.batch_size=4", "train.log_every_n_steps=1", "model.backbone=shape:tiny"]


def train_env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.update(
        HF_SER_CACHE=str(tmp_path / "cache"),
        HF_HUB_OFFLINE="1",
        WANDB_MODE="offline",
        OMP_NUM_THREADS="1",
        PYTHONHASHSEED="0",
    )
    return env


def train_args(out: Path, *extra: str) -> list[str]:
    """The arguments of `python -m hf_ser.train` for a fast demo run into ``out``."""
    return [str(DEMO_RECIPE), f"train.output_dir={out}", *FAST, *extra]


def train_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hf_ser.train", *train_args(out, *extra)]
