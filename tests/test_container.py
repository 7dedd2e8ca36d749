"""The container recipe: static checks of the Dockerfile (fast) and a real build + demo run (slow)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_follows_the_contract():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.M)
    assert len(stages) >= 2, "multi-stage build expected"
    # The default base is pinned by digest (a moved tag cannot change the build) and stays overridable.
    assert re.search(r"^ARG BASE_IMAGE=\S+@sha256:[0-9a-f]{64}$", text, flags=re.M)
    assert all(image == "${BASE_IMAGE}" for image, _ in stages)
    assert re.search(r"^ARG PIP_CERT", text, flags=re.M)
    assert re.search(r"^USER (?!root)\S+", text, flags=re.M)
    assert 'VOLUME ["/data/hf_home"]' in text and "HF_HOME=/data/hf_home" in text
    assert 'ENTRYPOINT ["accelerate", "launch", "hf_ser/train.py"]' in text
    # The exact versions the tests ran with (a plain `pip install .` drifted to a torchaudio torch cannot load).
    assert "COPY pyproject.toml requirements.lock" in text
    assert re.search(r"^\s*&& pip install -c requirements.lock \.$", text, flags=re.M)
    # Code and recipes are root's, read-only to the runtime user; only the run and cache folders are writable.
    assert "COPY hf_ser ./hf_ser" in text and "COPY recipes ./recipes" in text
    assert "--chown" not in text and "chown -R" not in text
    assert "chmod 1777 /app/runs /data/hf_home" in text
    # `docker run --user UID:GID` (a uid without a passwd entry): a writable home and a user name for getpass.
    assert "HOME=/tmp" in text and "USER=ser" in text
    assert (ROOT / "hf_ser" / "train.py").is_file(), "the entrypoint's script must exist in the copied tree"
    assert "HF_TOKEN=" not in text and "WANDB_API_KEY=" not in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv/", "runs/", "wandb/", ".git/"):
        assert entry in ignored


@pytest.mark.slow
def test_container_demo_builds_and_trains(tmp_path):
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("needs root and apt (debootstrap + buildah chroot isolation)")
    run_dir = tmp_path / "run"
    proc = subprocess.run(
        ["bash", "scripts/container_demo.sh"], cwd=ROOT, capture_output=True, text=True, timeout=3600,
        env={**os.environ, "RUN_DIR": str(run_dir)},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert any(key.startswith("test/") for key in metrics["results"]), metrics
    # The run folder outlives the container.
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    assert (run_dir / "model" / "config.json").is_file()


def test_container_demo_refuses_a_run_folder_that_is_not_empty(tmp_path):
    """Checked before any build or install: nothing in RUN_DIR is overwritten."""
    (tmp_path / "notes.txt").write_text("mine")
    proc = subprocess.run(
        ["bash", "scripts/container_demo.sh"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "RUN_DIR": str(tmp_path)},
    )
    assert proc.returncode == 2 and "is not empty" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
