import importlib.util
import json
import math
from pathlib import Path

import pytest

from hf_ser.baselines import BASELINES, build_baseline
from hf_ser.config import load_recipe

REPO = Path(__file__).parents[2]
BASELINE_RECIPES = sorted((REPO / "recipes" / "baselines").glob("*.yaml")) + sorted((REPO / "recipes" / "demo").glob("baseline_*.yaml"))


def _script():
    spec = importlib.util.spec_from_file_location("compare_baselines", REPO / "benchmarks" / "compare_baselines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", BASELINE_RECIPES, ids=[p.name for p in BASELINE_RECIPES])
def test_baseline_recipes_build_their_model(path):
    cfg = load_recipe(path)
    assert cfg.model.kind in BASELINES
    # Whether the header is honest about figures is tests/test_cited_figures.py's (every cited figure in a block
    # with source, protocol, metric and modality).
    options = {**cfg.model.options, "feature_cache_dir": None} if cfg.model.kind.startswith("issa") else cfg.model.options
    model = build_baseline(cfg.model.kind, id2label={0: "anger", 1: "sadness"}, task=cfg.model.task, dims=cfg.model.dims, options=options)
    assert model.config.kind == cfg.model.kind


def test_every_baseline_kind_has_a_demo_recipe():
    for kind in BASELINES:
        assert (REPO / "recipes" / "demo" / f"baseline_{kind}.yaml").is_file()
    assert set(_script().BASELINE_KINDS) == set(BASELINES)


def _write_fold(run_dir: Path, k: int, ua: float, wa: float, speakers: list[str]) -> None:
    fold = run_dir / f"fold_{k}"
    fold.mkdir(parents=True)
    metrics = {
        "protocol": {"test_speakers": speakers},
        "results": {"test/ravdess": {"ua": ua, "wa": wa, "macro_f1": None}, "valid/ravdess": {"ua": 0.0, "wa": 0.0, "macro_f1": 0.0}},
    }
    (fold / "metrics.json").write_text(json.dumps(metrics))


def test_table_averages_test_folds_and_checks_speakers(tmp_path):
    script = _script()
    _write_fold(tmp_path / "a", 0, 0.5, 0.6, ["ravdess/01"])
    _write_fold(tmp_path / "a", 1, 0.7, 0.8, ["ravdess/02"])
    _write_fold(tmp_path / "b", 0, 0.1, 0.1, ["ravdess/01"])
    _write_fold(tmp_path / "b", 1, 0.3, 0.3, ["ravdess/03"])
    a = script.summarize("a", script.fold_metrics(tmp_path / "a"), 12.0)
    # Sample standard deviation over folds (hf_ser.metrics.over_folds), as in aggregate.json and the model card.
    sd = math.sqrt(0.02)
    assert a["ua"] == pytest.approx((0.6, sd)) and a["wa"] == pytest.approx((0.7, sd))
    assert all(math.isnan(v) for v in a["macro_f1"])  # valid-split numbers never leak into the test columns
    table = script.markdown_table([a])
    assert "| a | 2 | 60.0 ± 14.1 | 70.0 ± 14.1 | nan ± nan | 12 |" in table
    b = script.summarize("b", script.fold_metrics(tmp_path / "b"), 1.0)
    with pytest.raises(RuntimeError, match="tested on"):
        script.check_same_folds([a, b])
