"""A run is its recipe: resume identity, output-folder reuse, and falling back from a damaged checkpoint."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from hf_ser.run_dir import RunDirError

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
# Four steps, a checkpoint every two, validation every two: a resume from step 2 replays steps 3-4 exactly.
STEPS = ["train.batch_size=4", "train.max_steps=4", "train.checkpoint_every_n_steps=2", "train.eval_every_n_steps=2",
         "train.log_every_n_steps=1", "data.eval_corpora=[]"]


def _main(out: Path, *extra: str) -> int:
    from hf_ser.train import main

    return main([str(DEMO_RECIPE), f"train.output_dir={out}", *STEPS, *extra])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    with pytest.MonkeyPatch.context() as monkeypatch:  # module-scoped: the cache stays set for the module's tests
        monkeypatch.setenv("HF_SER_CACHE", str(tmp / "cache"))
        out = tmp / "reference"
        assert _main(out) == 0
        yield out


def _files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [run / "recipe.resolved.yaml", *sorted((run / "manifests").iterdir())]}


def test_resume_with_a_changed_seed_is_refused_and_the_split_kept(reference, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    before = _files(run)
    with pytest.raises(RunDirError, match=r"train\.seed \(0 -> 7\)"):
        _main(run, "train.seed=7", "--resume")
    assert _files(run) == before  # recipe and manifests untouched: the held-out speakers are the stored ones


def test_resume_fills_keys_added_since_the_run_with_their_defaults(reference, tmp_path):
    """A recipe key added by an upgrade is missing from an older run's recipe.resolved.yaml; its default keeps
    the old behaviour, so --resume goes on (a stored value that differs is still refused)."""
    import yaml

    from hf_ser.config import load_recipe
    from hf_ser.run_dir import check_output_dir

    run = tmp_path / "run"
    shutil.copytree(reference, run)
    stored = yaml.safe_load((run / "recipe.resolved.yaml").read_text())
    del stored["model"]["focal_gamma"], stored["train"]["frozen_cache_device"]  # as if written before they existed
    (run / "recipe.resolved.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
    cfg = load_recipe(DEMO_RECIPE, [f"train.output_dir={run}", *STEPS, "resume=true"])
    assert check_output_dir(cfg) == {}
    stored["model"]["focal_gamma"] = 3.0
    (run / "recipe.resolved.yaml").write_text(yaml.safe_dump(stored, sort_keys=False))
    with pytest.raises(RunDirError, match=r"model\.focal_gamma \(3\.0 -> 2\.0\)"):
        check_output_dir(cfg)


def test_output_folder_reuse_is_refused_without_overwrite(reference, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    with pytest.raises(RunDirError, match="earlier run.*--resume.*--overwrite"):
        _main(run)
    stale = run / "checkpoints" / "step_00000420"
    shutil.copytree(run / "checkpoints" / "step_00000004", stale)
    (run / "notes.txt").write_text("mine")
    assert _main(run, "train.max_steps=2", "--overwrite") == 0
    assert not stale.exists()  # --overwrite cleared the run: no stale checkpoint reaches a later --resume
    assert (run / "notes.txt").read_text() == "mine"  # ... and kept what hf_ser did not write
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step_00000002"]


def test_allowed_changes_resume_and_are_recorded(reference, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    assert _main(run, "train.max_steps=6", "train.log_every_n_steps=2", "--resume") == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["protocol"]["recipe_changes"] == {"train.log_every_n_steps": [1, 2], "train.max_steps": [4, 6]}
    state = json.loads((run / "checkpoints" / "step_00000006" / "trainer_state.json").read_text())
    assert state["step"] == 6
    assert json.loads((reference / "metrics.json").read_text())["protocol"]["test_speakers"] == metrics["protocol"]["test_speakers"]


@pytest.mark.parametrize("damaged", ["model.safetensors", "trainer_state.json", "optimizer.bin"])
def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(reference, tmp_path, caplog, damaged):
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    (run / "metrics.json").unlink()
    newest = run / "checkpoints" / "step_00000004" / damaged
    newest.write_bytes(newest.read_bytes()[: max(1, newest.stat().st_size // 2)])
    with caplog.at_level(logging.INFO):
        assert _main(run, "--resume") == 0
    assert any(damaged in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    assert any("resumed" in r.getMessage() and "step_00000002" in r.getMessage() for r in caplog.records)
    a = json.loads((reference / "metrics.json").read_text())
    b = json.loads((run / "metrics.json").read_text())
    for metric in ("wa", "ua", "macro_f1", "loss"):
        assert b["results"]["test/ravdess"][metric] == pytest.approx(a["results"]["test/ravdess"][metric], abs=1e-6)
    # Augmentation counts are stored in the checkpoint: the resumed run reports the whole run's counts.
    assert b["augmentation"] == a["augmentation"] and sum(a["augmentation"]["applied"].values()) > 0


def test_unreadable_rng_state_is_a_warning_naming_the_file(reference, tmp_path, caplog):
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    (run / "checkpoints" / "step_00000004" / "random_states_0.pkl").write_bytes(b"garbage")
    with caplog.at_level(logging.INFO):
        assert _main(run, "--resume") == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("random_states_0.pkl" in w for w in warnings), warnings
    assert any("step_00000004" in r.getMessage() and "resumed" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------------- planted payloads
class _Payload:
    """Unpickling this creates ``marker`` (``builtins.open(marker, "w")``): proof that the file's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _plant(file: Path, marker: Path) -> None:
    import torch

    torch.save({"state": _Payload(marker)}, file)


def test_planted_payloads_never_run_on_resume_evaluate_predict_or_push(reference, tmp_path, caplog):
    """A crafted ``random_states_0.pkl`` and stray ``x.bin`` in the newest checkpoint and in ``model/`` are
    never unpickled: resume reads accelerate's own files with ``weights_only`` (the RNG state is refused and
    warned about, the checkpoint still used), and evaluate, predict and push never open them."""
    from hf_ser.cli import main as cli_main

    run = tmp_path / "run"
    shutil.copytree(reference, run)
    (run / "metrics.json").unlink()
    marker = tmp_path / "payload_ran"
    newest = run / "checkpoints" / "step_00000004"
    for folder in (newest, run / "model"):
        _plant(folder / "random_states_0.pkl", marker)
        _plant(folder / "x.bin", marker)
    # The probe: the same payload does run when such a file is loaded without weights_only.
    import torch

    _plant(tmp_path / "probe.bin", marker)
    torch.load(tmp_path / "probe.bin", weights_only=False)["state"].close()
    assert marker.exists()
    marker.unlink()

    with caplog.at_level(logging.INFO):
        assert _main(run, "--resume") == 0
    assert not marker.exists(), "resume ran a planted payload"
    assert any("random_states_0.pkl" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert any("resumed" in r.getMessage() and "step_00000004" in r.getMessage() for r in caplog.records)

    crema = REPO / "hf_ser" / "demo_data" / "crema_d"
    argv = ["evaluate", str(run / "model"), "--corpus", "crema_d", str(crema), "--n-boot", "0", "--no-progress",
            "--output", str(tmp_path / "eval")]
    assert cli_main(argv) == 0
    assert cli_main(["predict", str(run / "model"), str(next(crema.rglob("*.wav"))), "--json"]) == 0
    assert cli_main(["push", str(run), "--dry-run"]) == 0
    assert not marker.exists(), "evaluate, predict or push ran a planted payload"


def test_payload_in_an_accelerate_file_rejects_the_checkpoint_without_running(reference, tmp_path, caplog):
    """Every pickled file accelerate writes (optimizer, scheduler, RNG state) holding a payload: the newest
    checkpoint is reported damaged and the previous one used; the payload never runs."""
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    (run / "metrics.json").unlink()
    marker = tmp_path / "payload_ran"
    newest = run / "checkpoints" / "step_00000004"
    planted = sorted(p.name for p in newest.iterdir() if p.suffix in (".bin", ".pkl"))
    assert "optimizer.bin" in planted and "random_states_0.pkl" in planted
    for name in planted:
        _plant(newest / name, marker)
    with caplog.at_level(logging.INFO):
        assert _main(run, "--resume") == 0
    assert not marker.exists(), "resume ran a planted payload"
    assert any("resumed" in r.getMessage() and "step_00000002" in r.getMessage() for r in caplog.records)
