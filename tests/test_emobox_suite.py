"""`hf-ser benchmark emobox`: EmoBox's folds and label classes on every corpus on disk, one table, per-fold JSON."""

from __future__ import annotations

import json

import pytest

from hf_ser import emobox, emobox_suite
from hf_ser.cli import main as cli_main
from hf_ser.demo_data import demo_root

# The demo corpora that can fill an EmoBox fold. The demo EMO-DB speaks every emotion of texts a01/a02 for each
# speaker, combinations the real corpus mostly lacks (6 of its 28 clips are in EmoBox's lists); the demo EMOVO has
# 2 speakers, so a leave-one-speaker-out fold has a single training speaker and no validation speaker to draw.
DEMO = ("crema_d", "ravdess")


def test_benchmark_runs_the_demo_corpora_end_to_end_and_prints_the_table(tmp_path, capsys):
    roots = tmp_path / "roots.yaml"
    lines = [f"{c}: {demo_root(c)}" for c in DEMO] + [f"savee: {tmp_path / 'no-savee'}"]
    roots.write_text("\n".join(lines) + "\n")
    out = tmp_path / "emobox"
    code = cli_main([
        "benchmark", "emobox", "shape:tiny", "--roots", str(roots), "--out", str(out), "--partial", "--folds", "0",
        "--set", "train.max_steps=1", "train.batch_size=4", "data.max_duration_s=0.5", "train.epochs=1",
        "train.max_batch_audio_s=null", "train.early_stopping_patience=null", "model.num_frozen_layers=0",
    ])
    assert code == 0
    printed = capsys.readouterr().out
    table = json.loads((out / "emobox_folds.json").read_text())
    assert [r["corpus"] for r in table["rows"]] == sorted(DEMO)
    assert table["missing"]["savee"].startswith("root ") and "iemocap" in table["missing"]
    for row in table["rows"]:
        info = emobox.index()[row["corpus"]]
        assert row["speaker_dependent"] == info.speaker_dependent
        assert row["folds_run"] == 1 and row["folds_published"] == info.num_folds
        assert row["test_clips"] > 0
        (fold,) = row["folds"]
        assert fold["micro_f1"] == fold["wa"]
        for m in emobox_suite.METRICS:
            assert 0.0 <= row["mean"][m] <= 1.0
        (path,) = list((out / row["corpus"]).glob("**/metrics.json"))
        run = json.loads(path.read_text())
        assert run["protocol"]["protocol"] == f"{row['corpus']}_emobox"
    # One table in EmoBox's layout, printed and written, with the speaker-dependence flag per row.
    assert printed.endswith((out / "emobox_table.md").read_text())
    assert "| corpus | folds | speakers | test clips | WA | UA | micro-F1 | macro-F1 |" in printed
    assert "| crema_d | 1 of 1 | speaker-DEPENDENT |" in printed
    assert "| ravdess | 1 of 6 | speaker-independent |" in printed
    assert "PARTIAL" in printed and "Not run (not on disk): " in printed


def test_roots_naming_a_corpus_without_emobox_lists_is_refused(tmp_path):
    roots = tmp_path / "roots.yaml"
    roots.write_text("msp_podcast: /data/MSP\n")
    with pytest.raises(ValueError, match="no EmoBox lists for \\['msp_podcast'\\]"):
        emobox_suite.read_roots(roots)


def test_a_copy_that_lacks_listed_clips_is_reported_and_the_others_still_run(tmp_path):
    # Without --partial, the demo RAVDESS (96 of EmoBox's 1440 clips) cannot be run as EmoBox's folds.
    roots = {"ravdess": str(demo_root("ravdess")), "savee": str(tmp_path / "none")}
    table = emobox_suite.run_emobox("shape:tiny", roots, tmp_path / "out", overrides=["model.num_frozen_layers=0"])
    assert table["rows"] == [] and "savee" in table["missing"]
    assert table["failed"]["ravdess"].startswith("MissingClipsError: protocol 'ravdess_emobox': 1344 of the 1440")
    assert "FAILED ravdess: MissingClipsError" in (tmp_path / "out" / "emobox_table.md").read_text()


def test_each_corpus_recipe_is_the_base_recipe_with_emobox_data_as_the_override_strings_gave(tmp_path):
    # The typed per-corpus recipe equals the one the former key=value overrides built (user overrides kept).
    from hf_ser.config import load_recipe, to_dict

    info = emobox.index()["ravdess"]
    root, run_dir, user = str(demo_root("ravdess")), tmp_path / "ravdess", ["train.max_steps=1", "overwrite=true"]
    base = load_recipe(str(emobox_suite.DEFAULT_RECIPE), ["model.backbone=shape:tiny", *user], validate=False)
    typed = emobox_suite._corpus_recipe(base, "ravdess", info, root, run_dir, partial=True, folds="0")
    spec = {"name": "ravdess", "root": root, "label_map": info.label_map}
    strings = load_recipe(str(emobox_suite.DEFAULT_RECIPE), [
        "model.backbone=shape:tiny", f"train.output_dir={run_dir}", f"data.corpora={json.dumps([spec])}",
        f"data.label_set={json.dumps(info.label_set)}", "data.protocol=ravdess_emobox",
        'data.protocol_options={"strict": false}', "data.eval_corpora=[]", "folds=0", *user,
    ], validate=False)
    assert to_dict(typed) == to_dict(strings)
    assert typed.overwrite and typed.train.max_steps == 1 and typed.data.protocol == "ravdess_emobox"
