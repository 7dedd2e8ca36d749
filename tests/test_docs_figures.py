"""The demo figures quoted in the README and in recipes/README.md are the demo recipe's own outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"


def readme_figures() -> dict[str, float]:
    """UA % of the README's demo table: the RAVDESS test row and the masked CREMA-D cross-corpus row."""
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("RAVDESS test", "CREMA-D, cross-corpus"):
            rows[cells[0]] = float(cells[3])  # evaluated on | protocol | n | UA % | ...
    return {"test/ravdess": rows["RAVDESS test"], "cross/crema_d": rows["CREMA-D, cross-corpus"]}


def recipes_readme_figures() -> dict[str, float]:
    """The "expected" cell of recipes/README.md's demo/ravdess_tiny.yaml row."""
    (line,) = [x for x in (REPO / "recipes" / "README.md").read_text().splitlines() if x.startswith("| `demo/ravdess_tiny.yaml`")]
    match = re.search(r"([\d.]+) % test UA, ([\d.]+) % CREMA-D UA", line)
    assert match, line
    return {"test/ravdess": float(match.group(1)), "cross/crema_d": float(match.group(2))}


def test_the_two_readmes_quote_the_same_demo_figures():
    assert recipes_readme_figures() == readme_figures()


@pytest.mark.slow
def test_demo_recipe_prints_the_quoted_figures(tmp_path):
    """The whole demo recipe as `make demo` trains it (60 epochs on CPU, a few minutes): `make test-slow`."""
    out = tmp_path / "demo"
    env = {"HF_SER_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "hf_ser.train", str(DEMO_RECIPE), f"train.output_dir={out}"]
    subprocess.run(cmd, check=True, cwd=REPO, env={**os.environ, **env}, capture_output=True)
    results = json.loads((out / "metrics.json").read_text())["results"]
    measured = {key: round(100 * results[key]["ua"], 2) for key in ("test/ravdess", "cross/crema_d")}
    assert measured == readme_figures() == recipes_readme_figures()
