"""Several machines: each node's processes get a complete store; per cache folder exactly one builds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from audio_fixtures import write_wav

HERE = Path(__file__).parent
CLIPS = 8


def write_manifest(root: Path) -> Path:
    lines = ["path,label,speaker"]
    for n in range(CLIPS):
        write_wav(root / f"c{n}.wav", seconds=0.3 + 0.05 * n, freq_hz=200.0 + 30 * n)
        lines.append(f"c{n}.wav,{('anger', 'neutral')[n % 2]},s{n % 4}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def run_nodes(manifest: Path, caches: list[Path], tmp_path: Path) -> list[dict]:
    """Start one process per cache folder at the same time, as nodes launched together would."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), *sys.path])}
    outs = [tmp_path / f"node{k}.json" for k in range(len(caches))]
    procs = [
        subprocess.Popen([sys.executable, str(HERE / "node_prepare.py"), str(manifest), str(cache), str(out)], env=env)
        for cache, out in zip(caches, outs)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * len(procs)
    return [json.loads(out.read_text()) for out in outs]


def test_node_local_caches_each_build_a_complete_store(tmp_path):
    manifest = write_manifest(tmp_path / "corpus")
    nodes = run_nodes(manifest, [tmp_path / "node0_cache", tmp_path / "node1_cache"], tmp_path)
    assert [n["decoded"] for n in nodes] == [CLIPS, CLIPS]  # each node decodes its own copy once
    assert all(n["clips"] == n["rows"] == CLIPS for n in nodes)
    assert nodes[0]["checksum"] == nodes[1]["checksum"] > 0


def test_shared_cache_is_built_once_and_reused(tmp_path):
    manifest = write_manifest(tmp_path / "corpus")
    shared = tmp_path / "shared_cache"
    nodes = run_nodes(manifest, [shared, shared], tmp_path)
    assert sorted(n["decoded"] for n in nodes) == [0, CLIPS]  # one built, the other waited and reused it
    assert sorted(n["loads"] for n in nodes) == [0, 1]  # the corpus headers were read once too
    assert all(n["clips"] == n["rows"] == CLIPS for n in nodes)
    assert nodes[0]["directory"] == nodes[1]["directory"]
    assert nodes[0]["checksum"] == nodes[1]["checksum"] > 0
    assert not [p for p in shared.iterdir() if p.name.startswith(".tmp")]
