"""``--overwrite`` clears only an hf_ser run folder, and in it only what hf_ser wrote (issue 22, item 2)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from hf_ser.config import RecipeConfig, TrackingConfig, TrainConfig
from hf_ser.run_dir import RunDirError, check_output_dir, clear_output_dir, tracker_dirs


def _cfg(out: Path | str, **flags) -> RecipeConfig:
    return RecipeConfig(train=TrainConfig(output_dir=str(out)), **flags)


def _run_folder(root: Path) -> Path:
    """A run folder as training leaves it, plus a user's notes and thesis folder next to hf_ser's files."""
    for rel in ["recipe.resolved.yaml", "run_info.json", "data_report.json", "metrics.json", "curves.png",
                "confusion_test_ravdess.png", "aggregate.json", "aggregate.md", "manifests/train.jsonl",
                "model/config.json", "checkpoints/step_00000002/model.safetensors", "fold_1/metrics.json",
                "wandb/run.log", "hf_ser/events.out", ".tmp-metrics.json-abc", "notes.txt", "thesis/ch1.tex",
                "fold_notes.md"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    return root


def test_overwrite_removes_the_runs_entries_and_keeps_and_lists_the_rest(tmp_path, caplog):
    run = _run_folder(tmp_path / "run")
    cfg = dataclasses.replace(_cfg(run, overwrite=True), tracking=TrackingConfig(report_to=["tensorboard"]))
    assert check_output_dir(cfg) == {}
    kept = clear_output_dir(run, extra=tracker_dirs(cfg))
    assert kept == ["fold_notes.md", "notes.txt", "thesis"]
    assert sorted(p.name for p in run.iterdir()) == kept
    assert (run / "thesis" / "ch1.tex").read_text() == "x"
    assert "notes.txt" in caplog.text and "thesis" in caplog.text


def test_tracker_folder_named_by_the_project_is_kept_without_a_tracker(tmp_path):
    run = _run_folder(tmp_path / "run")
    assert "hf_ser" in clear_output_dir(run, extra=tracker_dirs(_cfg(run)))


@pytest.mark.parametrize("flags", [{"overwrite": True}, {}, {"resume": True}])
def test_a_folder_without_the_run_marker_is_never_cleared_nor_offered_to_overwrite(tmp_path, flags):
    folder = tmp_path / "project"
    (folder / ".git").mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="not an hf_ser run") as err:
        check_output_dir(_cfg(folder, **flags))
    assert "\n" not in str(err.value)
    assert "pass --overwrite" not in str(err.value)
    with pytest.raises(RunDirError, match="not an hf_ser run"):
        clear_output_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == [".git", "notes.txt"]


def test_the_working_directory_its_parents_and_home_are_refused_even_as_runs(tmp_path, monkeypatch):
    project = _run_folder(tmp_path / "a" / "project")
    (project / "src").mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for out, what in [(".", "the working directory"), (project, "the working directory"),
                      (tmp_path / "a", "a parent of the working directory"), ("/", "the filesystem root"),
                      (tmp_path / "home", "your home folder")]:
        with pytest.raises(RunDirError, match=what):
            check_output_dir(_cfg(out, overwrite=True))
        with pytest.raises(RunDirError, match=what):
            clear_output_dir(Path(out))
    assert (project / "src").is_dir() and (project / "model" / "config.json").is_file()


def test_a_symlinked_output_folder_is_refused(tmp_path):
    run = _run_folder(tmp_path / "run")
    link = tmp_path / "link"
    os.symlink(run, link)
    with pytest.raises(RunDirError, match="symbolic link"):
        check_output_dir(_cfg(link, overwrite=True))
    with pytest.raises(RunDirError, match="symbolic link"):
        clear_output_dir(link)
    assert (run / "model" / "config.json").is_file()


def test_a_run_without_a_flag_is_offered_resume_and_overwrite(tmp_path):
    run = _run_folder(tmp_path / "run")
    with pytest.raises(RunDirError, match="earlier run.*--resume.*--overwrite.*other files are kept"):
        check_output_dir(_cfg(run))
