"""The model card renders every section from the run, with nothing left unfilled."""

from __future__ import annotations

import json
import re
import statistics

import pytest
from hub.tiny_run import LABELS, write_run_dir
from huggingface_hub import ModelCard

from hf_ser.hub import render_model_card
from hf_ser.hub.card import TEMPLATE_PATH

SECTIONS = ["Training corpora", "Label set and mapping", "Split protocol", "Results", "Cross-corpus results",
            "How to use", "Intended use and limitations", "Training recipe", "Framework versions"]


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts), 2)}


def test_every_section_is_filled(tmp_path):
    run = write_run_dir(tmp_path / "run", folds=3)
    text = str(render_model_card(run, "org/tiny"))
    sections = _sections(text)
    assert list(sections) == SECTIONS
    for name, body in sections.items():
        assert body, f"empty section {name}"
    assert "{{" not in text and "{%" not in text
    assert "speaker-independent" in sections["Split protocol"]
    assert "CC BY-NC-SA 4.0" in sections["Training corpora"]  # the registry's licence for ravdess
    for i, label in enumerate(LABELS):
        assert f"| {i} | {label} |" in sections["Label set and mapping"]
    assert "| ravdess | 05 | angry |" in sections["Label set and mapping"]
    cross = json.loads((run / "metrics.json").read_text())["results"]["cross/crema_d"]
    row = next(line for line in sections["Cross-corpus results"].splitlines() if line.startswith("| cross/crema_d |"))
    assert row.startswith(f"| cross/crema_d | {cross['wa']:.4f} [")
    assert f"| {cross['n']} | " in row and " / 0.2500 / " in row  # n, then chance: UA of guessing among 4 labels
    assert "synthetic demo data" not in text


def test_fold_mean_and_std_come_from_the_folds(tmp_path):
    run = write_run_dir(tmp_path / "run", folds=3)
    uas = [json.loads((run / f"fold_{k}" / "metrics.json").read_text())["results"]["test/ravdess"]["ua"] for k in range(3)]
    results = _sections(str(render_model_card(run, "org/tiny")))["Results"]
    assert f"{statistics.mean(uas):.4f} ± {statistics.stdev(uas):.4f}" in results
    for k in range(3):
        assert f"| fold_{k} | " in results


def test_metadata_has_model_index_and_licence(tmp_path):
    run = write_run_dir(tmp_path / "run")
    card = ModelCard(str(render_model_card(run, "org/tiny")))
    data = card.data
    assert data.license == "cc-by-nc-sa-4.0"
    assert data.language == ["en"] and data.datasets == ["ravdess"]
    assert data.base_model == "facebook/wav2vec2-large-xlsr-53"
    metrics = json.loads((run / "metrics.json").read_text())["results"]
    values = {(r.dataset_type, r.metric_type): r.metric_value for r in data.eval_results}
    assert values[("ravdess", "recall")] == round(metrics["test/ravdess"]["ua"], 4)
    assert values[("crema_d", "accuracy")] == round(metrics["cross/crema_d"]["wa"], 4)
    assert not any(r.dataset_type == "ravdess" and r.dataset_name.startswith("valid") for r in data.eval_results)


def test_demo_corpora_get_the_synthetic_warning(tmp_path):
    run = write_run_dir(tmp_path / "run", demo=True)
    text = str(render_model_card(run, "org/demo"))
    assert "synthetic demo data" in _sections(text)["Intended use and limitations"]
    assert "synthetic-demo" in ModelCard(text).data.tags


def test_template_variable_left_unfilled_is_an_error(tmp_path):
    run = write_run_dir(tmp_path / "run")
    template = tmp_path / "card.md"
    template.write_text(TEMPLATE_PATH.read_text() + "\n{{ not_a_section }}\n")
    with pytest.raises(ValueError, match="not_a_section"):
        render_model_card(run, "org/tiny", template_path=template)


def test_cli_card_only_writes_the_card_without_network(tmp_path):
    from hf_ser import cli

    run = write_run_dir(tmp_path / "run")
    out = tmp_path / "README.md"
    assert cli.main(["push", str(run), "--repo-id", "org/tiny", "--card-only", str(out)]) == 0
    assert _sections(out.read_text())["Split protocol"].startswith("Protocol `holdout_speakers`")


def test_a_fold_pushed_alone_takes_the_recipe_from_its_parent(tmp_path):
    from hub.tiny_run import write_tiny_model

    from hf_ser.hub import collect_run_files

    run = write_run_dir(tmp_path / "run", folds=2)
    write_tiny_model(run / "fold_1" / "model")
    text = str(render_model_card(run / "fold_1", "org/tiny"))
    assert "root: <root of ravdess>" in _sections(text)["Training recipe"]  # the parent's recipe, no local path
    files = collect_run_files(run / "fold_1")
    assert files["recipe.resolved.yaml"] == run / "recipe.resolved.yaml"
    assert files["eval/metrics.json"] == run / "fold_1" / "metrics.json"
