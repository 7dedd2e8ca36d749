import argparse
import json
from pathlib import Path

import yaml

from hf_ser.commands import matrix as matrix_command
from hf_ser.matrix import Cell, cells, load_matrix, matrix_markdown

# Absolute: relative paths in a matrix file are relative to its own folder (here a temporary one).
REPO = Path(__file__).parents[1]
DEMO = str(REPO / "hf_ser" / "demo_data")
BASE = str(REPO / "recipes" / "demo" / "ravdess_tiny.yaml")


def test_matrix_trains_each_source_and_never_tests_on_its_own_corpora(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    spec = {
        "base": BASE,
        "output_dir": str(tmp_path / "matrix"),
        "label_sets": ["6class"],
        "sources": {
            "ravdess": [{"name": "ravdess", "root": f"{DEMO}/ravdess"}],
            "ravdess+emodb": [{"name": "ravdess", "root": f"{DEMO}/ravdess"}, {"name": "emodb", "root": f"{DEMO}/emodb"}],
        },
        "targets": [{"name": "crema_d", "root": f"{DEMO}/crema_d"}, {"name": "emodb", "root": f"{DEMO}/emodb"}],
        "overrides": ["train.max_steps=1", "train.batch_size=4"],
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(spec))
    parser = argparse.ArgumentParser()
    matrix_command.add_arguments(parser)
    assert matrix_command.run(parser.parse_args([str(path)])) == 0
    printed = capsys.readouterr().out  # the table goes to stdout
    table = json.loads((tmp_path / "matrix" / "matrix.json").read_text())
    assert printed.endswith((tmp_path / "matrix" / "matrix.md").read_text())  # after the runs' own tables
    assert matrix_markdown(table) == (tmp_path / "matrix" / "matrix.md").read_text()
    rows = {(r["source"], r["label_set"]): r for r in table["rows"]}
    assert set(rows) == {("ravdess", "6class"), ("ravdess+emodb", "6class")}
    # emodb is a target of the RAVDESS-only row, never of the row that trains on it.
    assert "emodb" in rows[("ravdess", "6class")]["targets"]
    assert "emodb" not in rows[("ravdess+emodb", "6class")]["targets"]
    six = {"anger", "disgust", "fear", "happiness", "neutral", "sadness"}
    assert set(rows[("ravdess", "6class")]["labels"]) == six  # calm and surprise are outside 6class
    shared = rows[("ravdess", "6class")]["targets"]["emodb"]["shared_labels"]
    assert set(shared) == six  # EMO-DB's boredom is not a model label
    md = matrix_markdown(table)
    assert "crema_d UA / WA (shared labels)" in md and "ravdess+emodb" in md
    # Every cell says how well calibrated it is and the table which modality its models use.
    crema = rows[("ravdess", "6class")]["targets"]["crema_d"]["masked"]
    run_metrics = json.loads((tmp_path / "matrix" / "ravdess__6class" / "metrics.json").read_text())
    assert crema["ece"] == run_metrics["results"]["cross/crema_d"]["ece"] is not None
    assert f"| {crema['ece']:.3f} |" in md and "Modality: speech." in md


def test_cells_are_typed_replacements_of_the_base_recipe(tmp_path):
    from hf_ser.config import load_recipe

    spec = {
        "base": BASE,
        "output_dir": str(tmp_path / "m"),
        "label_sets": ["all", "4class"],
        "sources": {"ravdess+emodb": [{"name": "ravdess", "root": f"{DEMO}/ravdess"}, {"name": "emodb", "root": f"{DEMO}/emodb"}]},
        "targets": [{"name": "crema_d", "root": f"{DEMO}/crema_d"}, {"name": "emodb", "root": f"{DEMO}/emodb"}],
    }
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(spec))
    cfg = load_matrix(path)
    base = load_recipe(cfg.base, ["train.epochs=3"])
    made = cells(cfg)
    assert [(c.source, c.label_set) for c in made] == [("ravdess+emodb", "all"), ("ravdess+emodb", "4class")]
    cell: Cell = made[1]
    recipe = cell.recipe(base)
    assert [s.name for s in recipe.data.corpora] == ["ravdess", "emodb"]
    assert [t.name for t in recipe.data.eval_corpora] == ["crema_d"]  # a source is never its own target
    assert recipe.data.label_set == "4class" and recipe.train.epochs == 3
    assert recipe.train.output_dir == str(tmp_path / "m" / "ravdess_emodb__4class")
    assert base.data.label_set == "all"  # the base recipe is not changed


def test_matrix_paths_are_relative_to_the_matrix_file():
    cfg = load_matrix(REPO / "recipes" / "demo" / "multilingual_matrix.yaml")
    assert Path(cfg.base) == REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
    assert [Path(t.root) for t in cfg.targets] == [REPO / "hf_ser" / "demo_data" / "crema_d"]
