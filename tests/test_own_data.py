"""Your own recordings, end to end: commands from any folder, the README's own-data commands, a failed start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
FAST = ["train.batch_size=4", "model.backbone=shape:tiny", "train.max_steps=2"]


def test_demo_recipe_trains_from_any_working_folder(tmp_path, monkeypatch):
    from hf_ser.train import main

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    assert main([str(DEMO_RECIPE), "train.output_dir=run", *FAST]) == 0
    # the output folder is relative to the working folder, the corpus roots to the recipe's folder
    metrics = json.loads((elsewhere / "run" / "metrics.json").read_text())
    assert metrics["results"]["test/ravdess"]["n"] == metrics["protocol"]["counts"]["test"] > 0
    assert metrics["results"]["cross/crema_d"]["n"] > 0


SPEAKERS = {"a": "train", "b": "train", "c": "dev", "d": "test"}
LABELS = ("happy", "angry", "sad", "neutral")
# What the test adds to the README's train line: a tiny random backbone and two steps (no Hub, seconds on CPU).
TINY = ["model.backbone=shape:tiny", "train.max_steps=2", "train.batch_size=4"]


def _my_clips(root: Path) -> dict[str, int]:
    """Generated recordings in both forms at once: label folders + metadata.csv (AudioFolder) and manifest.csv."""
    from audio_fixtures import write_wav

    manifest, metadata = ["path,label,speaker,split"], ["file_name,label,speaker,split"]
    counts: dict[str, int] = {}
    for s, (speaker, split) in enumerate(SPEAKERS.items()):
        for i, label in enumerate(LABELS * 2):
            rel = f"{label}/{speaker}_{i}.wav"
            write_wav(root / rel, seconds=0.6, freq_hz=150 + 60 * LABELS.index(label), seed=10 * s + i)
            manifest.append(f"{rel},{label},{speaker},{split}")
            metadata.append(f"{rel},{label},{speaker},{split}")
            counts[split] = counts.get(split, 0) + 1
    (root / "manifest.csv").write_text("\n".join(manifest) + "\n")
    (root / "metadata.csv").write_text("\n".join(metadata) + "\n")
    return counts


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Fine-tune on your own recordings", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def _hf_ser(line: str, *extra: str) -> int:
    import shlex

    from hf_ser.commands import main

    words = shlex.split(line)
    assert words[0] == "hf-ser"
    return main([*words[1:], *extra])


def test_readme_own_data_commands_train_on_a_csv_and_on_an_audiofolder(tmp_path, monkeypatch):
    commands = _readme_commands()
    assert len(commands) <= 4
    manifest_line, folder_line, train_line, evaluate_line = commands
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    for form, draft_line in (("manifest", manifest_line), ("audiofolder", folder_line)):
        work = tmp_path / form
        work.mkdir()
        monkeypatch.chdir(work)
        counts = _my_clips(work / "my_clips")
        assert _hf_ser(draft_line) == 0
        assert "protocol: predefined" in (work / "my.yaml").read_text()
        assert _hf_ser(train_line, *TINY) == 0
        run = work / "runs" / "my"
        metrics = json.loads((run / "metrics.json").read_text())
        # every row of each split, exactly: train a+b, validation c ("dev"), test d
        assert metrics["protocol"]["counts"] == {"train": counts["train"], "valid": counts["dev"], "test": counts["test"]}
        assert metrics["results"]["test/" + form]["n"] == counts["test"]
        assert metrics["protocol"]["speakers"] == "speaker-independent split (no speaker shared)"
        mapping = json.loads((run / "data_report.json").read_text())["train"][form]["label_mapping"]
        assert {(m["from"], m["to"], m["clips"]) for m in mapping} == {
            ("angry", "anger", 8), ("happy", "happiness", 8), ("sad", "sadness", 8)
        }
        assert _hf_ser(evaluate_line, "--n-boot", "0", "--no-progress") == 0
        report = json.loads((run / "eval_test" / "report.json").read_text())["results"][form]
        # the run's own test clips again: the same clips, the same figure as training reported
        assert report["n_scored"] == report["masked"]["n"] == counts["test"]
        assert report["masked"]["ua"] == pytest.approx(metrics["results"]["test/" + form]["ua"])


def test_unknown_label_stops_the_run_before_any_audio_store(tmp_path, monkeypatch, capsys):
    manifest_line, _, train_line, _ = _readme_commands()
    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    _my_clips(tmp_path / "my_clips")
    with open(tmp_path / "my_clips" / "manifest.csv", "a") as f:
        f.write("happy/a_0.wav,bored_maybe,a,train\nhappy/a_4.wav,bored_maybe,a,train\n")
    assert _hf_ser(manifest_line) == 2
    err = capsys.readouterr().err
    assert "'bored_maybe' (2 clips)" in err and "label_map: {bored_maybe: null}" in err
    assert not (tmp_path / "my.yaml").exists()
    # the recipe as the user fixes it trains; without the fix, training stops before any store is written
    assert _hf_ser(manifest_line, "--label-map", '{"bored_maybe": null}') == 0
    recipe = (tmp_path / "my.yaml").read_text().replace("label_map: {bored_maybe: null}", "")
    (tmp_path / "my.yaml").write_text(recipe)
    assert _hf_ser(train_line, *TINY) == 2
    assert "bored_maybe" in capsys.readouterr().err
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and not p.name.endswith(".lock")]


def test_a_failed_start_does_not_block_the_corrected_command(tmp_path, monkeypatch):
    from hf_ser.commands import main

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    common = [str(DEMO_RECIPE), f"train.output_dir={out}", "data.eval_corpora=[]", *FAST]
    assert main(["train", *common, f"data.corpora.0.root={tmp_path / 'wrong'}"]) == 2
    assert (out / "recipe.resolved.yaml").is_file()  # the failed start wrote its recipe ...
    right = REPO / "hf_ser" / "demo_data" / "ravdess"
    assert main(["train", *common, f"data.corpora.0.root={right}"]) == 0  # ... and the corrected run needs no flag
    assert json.loads((out / "metrics.json").read_text())["results"]["test/ravdess"]["n"] > 0
    # a finished run is not a failed start: the same command is refused until --resume or --overwrite
    assert main(["train", *common, f"data.corpora.0.root={right}"]) == 2


def test_ctrl_c_names_the_checkpoint_and_the_resume_command(tmp_path, monkeypatch, capsys):
    import hf_ser.train
    from hf_ser.commands import main
    from hf_ser.run_dir import TRAINER_STATE_FILE

    out = tmp_path / "out"

    def interrupted(cfg, **_):  # what Ctrl-C after the first checkpoint looks like to the command
        step = Path(cfg.train.output_dir) / "checkpoints" / "step_00000004"
        step.mkdir(parents=True)
        (step / TRAINER_STATE_FILE).write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(hf_ser.train, "run", interrupted)
    assert main(["train", str(DEMO_RECIPE), f"train.output_dir={out}"]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert str(out / "checkpoints" / "step_00000004") in err[0]
    assert err[0].endswith(f"hf-ser train {DEMO_RECIPE} train.output_dir={out} --resume")


def test_failed_start_is_only_what_a_run_writes_before_training(tmp_path):
    from hf_ser.run_dir import failed_start

    out = tmp_path / "out"
    (out / "fold_1" / "manifests").mkdir(parents=True)
    for rel in ("recipe.resolved.yaml", "data_report.json", "run_info.json", "fold_1/manifests/test.jsonl"):
        (out / rel).write_text("x")
    assert failed_start(out)
    (out / "notes.txt").write_text("the user's own file")  # never hf_ser's to clear
    assert not failed_start(out)
    (out / "notes.txt").unlink()
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "state.json").write_text("{}")  # training had started
    assert not failed_start(out)
    assert not failed_start(tmp_path / "empty_or_missing")


def test_label_folders_without_speakers_draft_a_clip_level_split_and_inspect_lists_the_mapping(tmp_path, monkeypatch, capsys):
    import yaml
    from audio_fixtures import write_wav

    from hf_ser.commands import main
    from hf_ser.config import load_recipe

    monkeypatch.setenv("HF_SER_CACHE", str(tmp_path / "cache"))
    for label in LABELS:
        for i in range(4):
            write_wav(tmp_path / "clips" / label / f"{i}.wav", seconds=0.6, seed=i)
    assert main(["corpora", "inspect", "audiofolder", str(tmp_path / "clips"), "--no-audio-check"]) == 2
    assert "options: {speakers: unknown}" in capsys.readouterr().err
    argv = ["corpora", "inspect", "audiofolder", str(tmp_path / "clips"), "--no-audio-check", "--option", "speakers=unknown"]
    assert main([*argv, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {(m["from"], m["to"]) for m in report["label_mapping"]} == {
        ("angry", "anger"), ("happy", "happiness"), ("sad", "sadness")
    }
    out = tmp_path / "recipes" / "mine.yaml"
    assert main(["recipe", "new", "--corpus", "audiofolder", "--root", str(tmp_path / "clips"), "-o", str(out)]) == 0
    recipe = yaml.safe_load(out.read_text())
    assert recipe["data"]["protocol"] == "stratified_random"
    assert recipe["data"]["corpora"] == [{"name": "audiofolder", "root": "../clips", "options": {"speakers": "unknown"}}]
    assert "SPEAKER-DEPENDENT" in out.read_text()  # the header says why, in words
    assert Path(load_recipe(out).data.corpora[0].root) == tmp_path / "clips"  # relative to the recipe's folder
    mine = out.read_text()
    assert main(["recipe", "new", "--corpus", "audiofolder", "--root", str(tmp_path / "clips"), "-o", str(out)]) == 2
    assert out.read_text() == mine and "exists" in capsys.readouterr().err  # a draft never replaces a file
