import json

import yaml

from hf_ser.cross_corpus import load_matrix, matrix_markdown, run_matrix

DEMO = "hf_ser/demo_data"


def test_matrix_trains_each_source_and_never_tests_on_its_own_corpora(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    spec = {
        "base": "recipes/demo/ravdess_tiny.yaml",
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
    cfg = load_matrix(path)
    table = run_matrix(cfg)
    rows = {(r["source"], r["label_set"]): r for r in table["rows"]}
    assert set(rows) == {("ravdess", "6class"), ("ravdess+emodb", "6class")}
    # emodb is a target of the RAVDESS-only row, never of the row that trains on it.
    assert "emodb" in rows[("ravdess", "6class")]["targets"]
    assert "emodb" not in rows[("ravdess+emodb", "6class")]["targets"]
    six = {"anger", "disgust", "fear", "happiness", "neutral", "sadness"}
    assert set(rows[("ravdess", "6class")]["labels"]) == six  # calm and surprise are outside 6class
    shared = rows[("ravdess", "6class")]["targets"]["emodb"]["shared_labels"]
    assert set(shared) == six  # EMO-DB's boredom is not a model label
    saved = json.loads((tmp_path / "matrix" / "matrix.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(table["rows"]))
    md = matrix_markdown(table)
    assert "crema_d UA / WA (shared labels)" in md and "ravdess+emodb" in md
