"""``train.ema_decay``: validation, selection and the saved model use the weight average; training does not
change; a resumed run continues the average bitwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hf_ser.config import load_recipe
from hf_ser.training.callbacks import Callback
from hf_ser.training.ema import EMA_FILE

REPO = Path(__file__).parents[1]
DEMO_RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
DECAY = 0.6
# Six steps, validation and a checkpoint every two: a resume from step 2 or 4 replays the rest.
STEPS = ["train.batch_size=4", "train.max_steps=6", "train.eval_every_n_steps=2", "train.checkpoint_every_n_steps=2",
         "train.keep_checkpoints=3", "train.log_every_n_steps=1", "data.eval_corpora=[]"]


class AverageByHand(Callback):
    """Keeps its own average of the training weights (the formula, not the callback's code) and records the
    weights each validation scores."""

    def __init__(self):
        self.average: dict[str, torch.Tensor] = {}
        self.step = 0
        self.expected: dict[int, dict[str, torch.Tensor]] = {}  # step -> the average validation should see
        self.validated: dict[int, dict[str, torch.Tensor]] = {}  # step -> the weights validation saw

    def on_train_begin(self, model, state):
        self.average = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    def on_step_end(self, model, state):
        self.step += 1
        weights = dict(model.named_parameters())
        for n in self.average:
            self.average[n] = DECAY * self.average[n] + (1 - DECAY) * weights[n].detach()

    def on_validation_begin(self, model):  # called after the recipe's callbacks: the average is in place
        params = dict(model.named_parameters())
        step = self.step
        self.validated[step] = {n: params[n].detach().clone() for n in self.average}
        self.expected[step] = {n: t.clone() for n, t in self.average.items()}


def _run(out: Path, *extra: str, callbacks=()) -> dict:
    from hf_ser.train import run

    cfg = load_recipe(str(DEMO_RECIPE), [f"train.output_dir={out}", *STEPS, *extra])
    return next(iter(run(cfg, callbacks=callbacks)["folds"].values()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ema")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_SER_CACHE", str(tmp / "cache"))
        by_hand = AverageByHand()
        with_ema = _run(tmp / "ema", f"train.ema_decay={DECAY}", callbacks=[by_hand])
        without = _run(tmp / "plain")
    return tmp, by_hand, with_ema, without


def test_validation_and_the_saved_model_use_the_average(runs):
    tmp, by_hand, with_ema, _ = runs
    assert sorted(by_hand.validated) == [2, 4, 6]
    for k, seen in by_hand.validated.items():
        for name, tensor in seen.items():
            torch.testing.assert_close(tensor, by_hand.expected[k][name], rtol=0, atol=1e-6)
    # The saved model is the average at the selected step.
    saved = load_file(tmp / "ema" / "model" / "model.safetensors")
    selected = by_hand.expected[with_ema["best_step"]]
    assert set(selected) <= set(saved)
    for name, tensor in selected.items():
        torch.testing.assert_close(saved[name], tensor, rtol=0, atol=1e-6)


def test_training_itself_is_unchanged_by_the_average(runs):
    tmp, _, with_ema, without = runs
    # Same training losses step by step: the training weights are restored exactly after every validation.
    curves = [json.loads((tmp / name / "metrics.json").read_text())["training"]["train_loss"] for name in ("ema", "plain")]
    assert curves[0] == curves[1]
    # ...while validation scored other weights (the average moves more slowly than the weights).
    assert with_ema["results"]["valid/ravdess"]["loss"] != without["results"]["valid/ravdess"]["loss"]


def test_resume_continues_the_average_bitwise(runs, tmp_path, monkeypatch):
    tmp, _, with_ema, _ = runs
    monkeypatch.setenv("HF_SER_CACHE", str(tmp / "cache"))
    run = tmp_path / "resumed"
    shutil.copytree(tmp / "ema", run)
    assert (run / "checkpoints" / "step_00000002" / EMA_FILE).is_file()
    # Back to the state of a run killed after its step-2 checkpoint.
    for later in ("step_00000004", "step_00000006"):
        shutil.rmtree(run / "checkpoints" / later)
    (run / "metrics.json").unlink()
    from hf_ser.train import main

    assert main([str(DEMO_RECIPE), f"train.output_dir={run}", *STEPS, f"train.ema_decay={DECAY}", "--resume"]) == 0
    assert (run / "model" / "model.safetensors").read_bytes() == (tmp / "ema" / "model" / "model.safetensors").read_bytes()
    for name in ("step_00000004", "step_00000006"):
        assert (run / "checkpoints" / name / EMA_FILE).read_bytes() == (tmp / "ema" / "checkpoints" / name / EMA_FILE).read_bytes()
    resumed = json.loads((run / "metrics.json").read_text())
    assert resumed["results"] == with_ema["results"] and resumed["best_step"] == with_ema["best_step"]
