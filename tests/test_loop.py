"""The loop's pieces without a model: the stop rule and the loop's own timing record."""

from __future__ import annotations

import json

import torch

from hf_ser.training.state import Stopping, TrainerState
from hf_ser.training.timing import LoopTiming


def test_step_budget_ends_the_fold_mid_epoch():
    rule = Stopping(total_steps=5, max_epochs=None, patience=None, select_metric="ua")
    state = TrainerState(step=4, epoch=7)
    assert rule.keep_going(state) and not rule.stop_after_step(state)
    state.step = 5
    assert rule.stop_after_step(state) and rule.finished(state)


def test_epochs_end_the_fold_and_a_finished_state_stays_finished():
    rule = Stopping(total_steps=100, max_epochs=2, patience=None, select_metric="ua")
    state = TrainerState(step=10, epoch=1)
    assert rule.keep_going(state) and not rule.finished(state)
    state.epoch = 2
    assert rule.finished(state) and not rule.keep_going(state)
    assert not rule.keep_going(TrainerState(done=True))


def test_selection_and_patience():
    rule = Stopping(total_steps=100, max_epochs=None, patience=2, select_metric="ua")
    state = TrainerState()
    assert rule.improved(state, {"ua": 0.3}) and state.best_metric == 0.3
    state.step = 4
    assert not rule.improved(state, {"ua": 0.3})  # equal is no improvement
    assert not rule.stop_after_step(state)
    assert not rule.improved(state, {"ua": 0.2})
    assert rule.out_of_patience(state) and rule.stop_after_step(state)
    assert rule.improved(state, {"ua": 0.4}) and state.best_step == 4 and state.bad_evals == 0
    by_loss = Stopping(total_steps=1, max_epochs=None, patience=None, select_metric="loss")
    state = TrainerState()
    assert by_loss.improved(state, {"loss": 2.0}) and by_loss.improved(state, {"loss": 1.0})
    assert not by_loss.improved(state, {"loss": 1.5})


def test_the_validated_step_is_state_saved_with_it():
    rule = Stopping(total_steps=10, max_epochs=None, patience=None, select_metric="ua")
    state = TrainerState(step=3)
    assert state.validated_step == -1
    rule.improved(state, {"ua": 0.5})
    state.step = 5
    rule.improved(state, {"ua": 0.1})  # not an improvement, still a validation of step 5
    assert state.validated_step == 5 and state.best_step == 3
    assert TrainerState(**json.loads(json.dumps(state.__dict__))).validated_step == 5  # as a checkpoint keeps it


def test_timing_accumulates_on_the_device_and_reads_at_log_steps():
    timing = LoopTiming(torch.device("cpu"))
    timing.start_epoch()
    for loss, real in ((1.0, 3), (3.0, 5)):
        mask = torch.zeros(2, 4, dtype=torch.long)
        mask.view(-1)[:real] = 1
        timing.add_batch(torch.tensor(loss), mask)
    mean, rate = timing.read(num_processes=1)
    assert mean == 2.0 and rate > 0
    timing.add_batch(torch.tensor(5.0), torch.ones(2, 4, dtype=torch.long))
    assert timing.read(num_processes=1)[0] == 5.0  # the window restarts after a read
    timing.end_epoch()
    report = timing.report(num_processes=2)
    assert report["batches"] == 3 and report["train_loss"] == 3.0
    assert report["train_audio_s"] == (3 + 5 + 8) / 16_000 * 2 and report["padded_audio_s"] == 24 / 16_000 * 2
    times = timing.times()
    assert len(times["epoch_s"]) == 1 and times["train_cpu_s"] >= 0 and not set(times) & set(report)
    assert list(timing.batches([1, 2])) == [1, 2] and timing.data_wait_s >= 0


def test_folds_are_chosen_by_the_protocols_own_numbers():
    """On a partial corpus make_folds omits folds; `folds=` and fold directories keep the protocol's numbers."""
    import pytest

    from hf_ser.errors import RecipeError
    from hf_ser.splits import Fold
    from hf_ser.train import _select_folds

    present = [Fold(index=i, test_speakers=(f"c/{i}",)) for i in (0, 2, 3)]  # fold 1 omitted (no test data)
    assert [f.index for f in _select_folds("2,3", present)] == [2, 3]
    assert [f.index for f in _select_folds("all", present)] == [0, 2, 3]
    with pytest.raises(RecipeError, match=r"\[1\].*\[0, 2, 3\]"):
        _select_folds("1", present)
