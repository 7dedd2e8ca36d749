"""Training, `hf-ser evaluate` and `hf-ser matrix` report the same masked / unmasked cross-corpus figures.

All three go through ``hf_ser.evaluation.inference`` (windows, forward) and ``hf_ser.evaluation.scoring``
(masked / unmasked figures); this test ties them on the demo data with a tiny model trained for a few steps.
"""

import json
from pathlib import Path

import yaml

from hf_ser.cli import main as hf_ser_main

# Absolute: relative paths in a matrix file are relative to its own folder (here a temporary one).
REPO = Path(__file__).parents[2]
DEMO = str(REPO / "hf_ser" / "demo_data")
FIGURES = ("wa", "ua", "macro_f1", "n")


def test_training_evaluate_and_matrix_give_identical_cross_corpus_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    spec = {
        "base": str(REPO / "recipes" / "demo" / "ravdess_tiny.yaml"),
        "output_dir": str(tmp_path / "matrix"),
        "label_sets": ["all"],
        "sources": {"ravdess": [{"name": "ravdess", "root": f"{DEMO}/ravdess"}]},
        "targets": [{"name": "crema_d", "root": f"{DEMO}/crema_d"}],
        # A few steps at a high rate: the model must not predict one class for every clip, or ties hide bugs.
        "overrides": ["train.max_steps=60", "train.lr=4.0e-3", "data.augment=[]"],
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(spec))
    assert hf_ser_main(["matrix", str(tmp_path / "m.yaml")]) == 0
    matrix = json.loads((tmp_path / "matrix" / "matrix.json").read_text())
    (row,) = matrix["rows"]
    from_matrix = row["targets"]["crema_d"]
    run_dir = tmp_path / "matrix" / "ravdess__all"
    results = json.loads((run_dir / "metrics.json").read_text())["results"]
    from_training = {"masked": results["cross/crema_d"], "unmasked": results["cross_unmasked/crema_d"]}

    out = tmp_path / "eval"
    argv = ["evaluate", str(run_dir / "model"), "--corpus", "crema_d", f"{DEMO}/crema_d", "--n-boot", "0"]
    assert hf_ser_main([*argv, "--no-progress", "--output", str(out)]) == 0
    from_evaluate = json.loads((out / "report.json").read_text())["results"]["crema_d"]

    for side in ("masked", "unmasked"):
        train_fig = {k: from_training[side][k] for k in FIGURES}
        assert {k: from_evaluate[side][k] for k in FIGURES} == train_fig, side
        assert {k: from_matrix[side][k] for k in FIGURES} == train_fig, side
        assert from_evaluate[side]["confusion"] == from_training[side]["confusion"], side
    assert from_evaluate["target_labels"] == from_training["masked"]["shared_labels"]
    # The figures are not degenerate: the model does not answer one class for every clip.
    confusion = from_training["unmasked"]["confusion"]
    assert sum(1 for col in zip(*confusion) if sum(col)) > 1
