"""`hf-ser evaluate` beyond one hard label: CREMA-D's acted and perceived figures, and dimensional models."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from hf_ser import models
from hf_ser.commands import evaluate as cli
from hf_ser.corpora import NO_AGREEMENT, load_corpus
from hf_ser.demo_data import demo_root

CREMA_LABELS = {0: "anger", 1: "disgust", 2: "fear", 3: "happiness", 4: "neutral", 5: "sadness"}
DIMENSIONS = Path(demo_root("ravdess")) / "dimensions.csv"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def _save(model, path: Path) -> Path:
    model.save_pretrained(path)
    models.build_feature_extractor().save_pretrained(path)
    return path


def test_crema_d_acted_and_perceived_side_by_side(tmp_path):
    model_dir = _save(models.build_model(backbone="shape:tiny", id2label=CREMA_LABELS, seed=1), tmp_path / "m" / "model")
    assert _run([str(model_dir), "--corpus", "crema_d", str(demo_root("crema_d")), "--n-boot", "50", "--no-progress"]) == 0
    out = tmp_path / "m" / "eval_crema_d"
    report = json.loads((out / "report.json").read_text())
    acted, perceived = report["results"]["crema_d"], report["results"]["crema_d.perceived"]
    assert (acted["reference"], perceived["reference"]) == ("label", "perceived_label")
    ds, _ = load_corpus("crema_d", demo_root("crema_d"))
    ties = sum(p == NO_AGREEMENT for p in ds["perceived_label"])
    assert ties > 0 and acted["masked"]["n"] == len(ds) and perceived["masked"]["n"] == len(ds) - ties
    assert perceived["left_out_counts"] == {"no perceived majority": ties}  # "(raters tied)" is cut off
    # The perceived figure scores the same predictions against the crowd's label: recompute it by hand.
    preds = {r["utt_id"]: r["prediction_masked"] for r in map(json.loads, (out / "predictions_crema_d.jsonl").open())}
    pairs = [(p, preds[u]) for u, p in zip(ds["utt_id"], ds["perceived_label"]) if p != NO_AGREEMENT]
    wa = np.mean([ref == hyp for ref, hyp in pairs])
    assert perceived["masked"]["wa"] == pytest.approx(wa)
    assert perceived["masked"]["ci"]["ua"] is not None and perceived["context"]["corpus"] == "crema_d"
    md = (out / "report.md").read_text()
    assert "## Target: crema_d" in md and "## Target: crema_d.perceived" in md and "perceived_label" in md
    summary = (out / "summary.txt").read_text()
    assert "crema_d.perceived" in summary and "perceived_label" in summary


@pytest.mark.parametrize("task", ["regression", "multitask"])
def test_dimensional_model_scored_with_ccc_and_intervals(tmp_path, task):
    dims = ("valence", "arousal", "dominance")
    id2label = {} if task == "regression" else dict(enumerate(sorted(set(load_corpus("manifest", DIMENSIONS)[0]["label"]))))
    model = models.build_model(backbone="shape:tiny", id2label=id2label, task=task, dims=dims, seed=0)
    model_dir = _save(model, tmp_path / task / "model")
    args = [str(model_dir), "--corpus", "manifest", str(DIMENSIONS), "--n-boot", "200", "--no-progress"]
    assert _run(args) == 0
    report = json.loads((tmp_path / task / "eval_manifest" / "report.json").read_text())
    key = "manifest" if task == "regression" else "manifest.dims"
    res = report["results"][key]
    assert res["dims"] == list(dims) and res["n_scored"] == 96
    m = res["metrics"]
    for dim in dims:
        assert set(m["per_dim"][dim]) == {"ccc", "pearson", "spearman", "mae"}
        low, high = m["ci"][dim]
        assert low <= m["per_dim"][dim]["ccc"] <= high
    assert m["mean_ccc"] == pytest.approx(np.mean([m["per_dim"][d]["ccc"] for d in dims]))
    assert len(m["mean_ccc_ci"]) == 2
    # CCC recomputed from the written predictions.
    pred_file = tmp_path / task / "eval_manifest" / res["predictions_file"]
    rows = [json.loads(line) for line in pred_file.open()]
    x = np.array([r["arousal_reference"] for r in rows])
    y = np.array([r["arousal_prediction"] for r in rows])
    ccc = 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert m["per_dim"]["arousal"]["ccc"] == pytest.approx(ccc, rel=1e-5)
    if task == "multitask":  # the classification head is scored too, under the corpus name
        assert {"masked", "unmasked"} <= set(report["results"]["manifest"])
    else:
        assert set(report["results"]) == {"manifest"}
    md = (tmp_path / task / "eval_manifest" / "report.md").read_text()
    assert "CCC [95% CI]" in md
