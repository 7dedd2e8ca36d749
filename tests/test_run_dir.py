"""The run directory contract: readers read what the trainer really writes (no hand-written fixture)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hf_ser import run_dir as rd

# These tests look at the PNGs themselves: render them (tests/conftest.py).
pytestmark = pytest.mark.real_plots

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"


class _Recording(dict):
    """A dict that notes every key a reader asks for and does not find (nested dicts and lists included)."""

    def __init__(self, data, missing: set, where: str):
        super().__init__(data)
        self._missing, self._where = missing, where

    def _wrap(self, key, value):
        return _wrap(value, self._missing, f"{self._where}.{key}")

    def get(self, key, default=None):
        if key not in self:
            self._missing.add(f"{self._where}.{key}")
            return default
        return self._wrap(key, super().get(key))

    def __getitem__(self, key):
        if key not in self:
            self._missing.add(f"{self._where}.{key}")
        return self._wrap(key, super().__getitem__(key))


def _wrap(value, missing: set, where: str):
    if isinstance(value, dict):
        return _Recording(value, missing, where)
    if isinstance(value, list):
        return [_wrap(v, missing, f"{where}[]") for v in value]
    return value


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from hf_ser.config import load_recipe
    from hf_ser.train import run

    tmp = tmp_path_factory.mktemp("run_dir")
    with pytest.MonkeyPatch.context() as monkeypatch:  # module-scoped: the cache stays set for the module's tests
        monkeypatch.setenv("HF_SER_CACHE", str(tmp / "cache"))
        cfg = load_recipe(DEMO_RECIPE, [
            f"train.output_dir={tmp / 'run'}", "train.max_steps=2", "train.batch_size=4", "train.log_every_n_steps=1",
        ])
        warnings = _Warnings()
        logging.getLogger("hf_ser.train").addHandler(warnings)
        try:
            result = run(cfg)
        finally:
            logging.getLogger("hf_ser.train").removeHandler(warnings)
        result["warnings"] = warnings.lines
        yield Path(result["run_dir"]), result


class _Warnings(logging.Handler):
    """The training log's warnings, as text."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_readers_find_every_field_they_read_in_a_real_run(trained_run, monkeypatch):
    from hf_ser.hub.card import render_model_card

    run, _ = trained_run
    missing: set[str] = set()
    for name in ("_load_json", "_load_yaml", "_load_jsonl"):
        original = getattr(rd, name)
        monkeypatch.setattr(rd, name, lambda p, _f=original: _wrap(_f(p), missing, Path(p).name))
    card = str(render_model_card(run, "someone/demo"))
    facts = rd.read_run_protocol(run / rd.MODEL_DIR)
    # A key asked for and absent means a reader expects a field no writer writes.
    assert not missing, sorted(missing)
    # The corpus's own labels (RAVDESS codes) reach the card through the manifests.
    assert "Corpus labels mapped to these outputs" in card
    rows = rd.read_manifests(run)["train"]
    assert all(set(r) == set(rd.MANIFEST_FIELDS) for r in rows)
    assert {r["orig_label"] for r in rows} and all(r["orig_label"] for r in rows)
    assert facts["source_corpora"] == ["ravdess"] and facts["validation_corpora"] == ["ravdess"]
    assert facts["folds"] == "holdout_speakers, fold 0" and facts["model_label_set"] == "all"
    assert facts["run_protocol"]["test_speakers"]


def test_metrics_json_is_the_typed_record(trained_run):
    run, result = trained_run
    stored = json.loads((run / rd.METRICS_FILE).read_text())
    assert stored == json.loads(json.dumps(result["folds"][0]))
    record = rd.FoldMetrics(protocol=rd.ProtocolRecord(**stored["protocol"]), **{k: v for k, v in stored.items() if k != "protocol"})
    assert record.to_dict() == stored
    training = stored["training"]
    assert training["batches"] == 2 and training["train_audio_s"] > 0
    assert training["train_audio_s"] <= training["padded_audio_s"]
    # Seconds live in timing.json, so metrics.json holds nothing that changes from one rerun to the next.
    timing = json.loads((run / rd.TIMING_FILE).read_text())
    assert timing == result["timing"][0] and len(timing["training"]["epoch_s"]) >= 1
    assert timing["evaluation"]["test_eval_s"] > 0
    assert not any(key.endswith(("_s", "_cpu_s")) and "audio" not in key for key in training)


def test_split_reads_back_from_the_manifests(trained_run):
    from hf_ser.config import load_recipe
    from hf_ser.data.prepare import prepare_corpora

    run, _ = trained_run
    cfg = load_recipe(run / rd.RECIPE_FILE)
    data = prepare_corpora(cfg.data.corpora, label_set=cfg.data.label_set, cache_dir=cfg.data.cache_dir, progress=False)
    split = rd.read_split(run, data.dataset)
    proto = json.loads((run / rd.METRICS_FILE).read_text())["protocol"]
    assert list(split.test_speakers) == proto["test_speakers"]
    assert {side: len(getattr(split, side)) for side in rd.SIDES} == proto["counts"]
    keys = [f"{c}/{u}" for c, u in zip(data.dataset["corpus"], data.dataset["utt_id"])]
    assert [keys[i] for i in split.test] == [f"{r['corpus']}/{r['utt_id']}" for r in rd.read_manifests(run)["test"]]


def test_every_evaluated_split_is_calibrated_and_the_temperature_travels_with_the_model(trained_run):
    """ECE, Brier and the reliability bins for every scored split; a reliability PNG each; the temperature fitted on
    validation is in the saved config.json and only lowers the validation NLL (it never changes a prediction)."""
    run, result = trained_run
    metrics = json.loads((run / "metrics.json").read_text())
    calibration = json.loads((run / "model" / "config.json").read_text())["calibration"]
    assert calibration["fitted_on"] == "validation" and calibration["temperature"] > 0
    for key, figures in metrics["results"].items():
        assert 0 <= figures["ece"] <= 1 and 0 <= figures["brier"] <= 2, key
        assert sum(figures["reliability"]["count"]) == figures["n"], key
        assert figures["temperature"] == calibration["temperature"]
        assert figures["accuracy_at_coverage"]["100"] == pytest.approx(figures["wa"]), key
        assert (run / f"reliability_{key.replace('/', '_')}.png").stat().st_size > 0
    valid = next(v for k, v in metrics["results"].items() if k.startswith("valid/"))
    assert calibration["temperature"] != 1.0  # the demo's fit moves it (a seeded run: the same every time)
    assert valid["nll"] <= valid["uncalibrated"]["nll"]
    # The check on the demo: the fitted temperature lowers the validation ECE (15 bins).
    assert valid["ece"] < valid["uncalibrated"]["ece"]
    # 16 validation clips: the log says the temperature is noisy (and how to see the raw probabilities).
    assert calibration["clips"] == valid["n"] < 100
    assert any(f"only {valid['n']} validation clips" in line and "--no-calibration" in line for line in result["warnings"])
    assert calibration["valid_ece"] == pytest.approx(valid["ece"]) and calibration["valid_ece_raw"] == pytest.approx(valid["uncalibrated"]["ece"])
