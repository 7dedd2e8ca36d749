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
    assert re.search(r"^ARG BASE_IMAGE=\S+", text, flags=re.M)
    assert re.search(r"^ARG PIP_CERT", text, flags=re.M)
    assert re.search(r"^USER (?!root)\S+", text, flags=re.M)
    assert 'VOLUME ["/data/hf_home"]' in text and "HF_HOME=/data/hf_home" in text
    assert 'ENTRYPOINT ["accelerate", "launch", "hf_ser/train.py"]' in text
    assert "COPY --chown=ser:ser recipes ./recipes" in text
    assert (ROOT / "hf_ser" / "train.py").is_file(), "the entrypoint's script must exist in the copied tree"
    assert "HF_TOKEN=" not in text and "WANDB_API_KEY=" not in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".venv/", "runs/", "wandb/", ".git/"):
        assert entry in ignored


@pytest.mark.slow
def test_container_demo_builds_and_trains():
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("needs root and apt (debootstrap + buildah chroot isolation)")
    proc = subprocess.run(
        ["bash", "scripts/container_demo.sh"], cwd=ROOT, capture_output=True, text=True, timeout=3600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert any(key.startswith("test/") for key in metrics["results"]), metrics
