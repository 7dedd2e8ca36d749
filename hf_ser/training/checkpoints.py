"""Resumable checkpoints of a fold: written atomically, read back with a fall-back from a damaged one.

A checkpoint is Accelerate's ``save_state`` (model, optimizer, scheduler, RNG) plus ``trainer_state.json`` plus
whatever the fold's callbacks add (``Callback.on_checkpoint_save``), in ``checkpoints/step_N`` of the fold folder.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from accelerate import Accelerator
from accelerate.utils import (
    MODEL_NAME,
    OPTIMIZER_NAME,
    RNG_STATE_NAME,
    SAMPLER_NAME,
    SCALER_NAME,
    SCHEDULER_NAME,
)
from accelerate.utils import load as accelerate_load

from hf_ser.fsutil import publish_dir
from hf_ser.run_dir import CHECKPOINTS_DIR, TRAINER_STATE_FILE, checkpoint_dir
from hf_ser.training.state import TrainerState

logger = logging.getLogger(__name__)


def save_checkpoint(
    accelerator: Accelerator, fold_dir: Path, state: TrainerState, *, keep: int,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write model/optimizer/scheduler/RNG states plus ``trainer_state.json`` atomically; keep the newest ``keep``.

    The state goes to ``checkpoints/.tmp-step_N`` and is renamed to ``step_N`` only when complete, so a run
    killed while saving resumes from the previous checkpoint. ``extra(folder)`` adds the callbacks' own files
    (every process calls it; it writes on the main process) before the rename.
    """
    final = checkpoint_dir(fold_dir, state.step)
    tmp = checkpoint_dir(fold_dir, state.step, partial=True)
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True, exist_ok=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp), safe_serialization=True)
    if extra is not None:
        extra(tmp)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / TRAINER_STATE_FILE).write_text(json.dumps(state.__dict__, indent=1))
        publish_dir(tmp, final)  # fsync'ed, then renamed; a same-step checkpoint is removed only after that
        for old in sorted(final.parent.glob("step_*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def complete_checkpoints(fold_dir: Path) -> list[Path]:
    """A fold's complete checkpoints (renamed from their temporary folder), oldest first."""
    return sorted(p for p in (Path(fold_dir) / CHECKPOINTS_DIR).glob("step_*") if (p / TRAINER_STATE_FILE).is_file())


def load_latest_checkpoint(
    accelerator: Accelerator, fold_dir: Path, *, extra: Callable[[Path], None] | None = None
) -> tuple[TrainerState, Path] | None:
    """Restore the newest intact checkpoint of a fold; ``None`` when the fold has none.

    Every file that will be restored is read first: a damaged one (truncated weights, optimizer or trainer
    state) is reported by name with a warning and the previous checkpoint is used. An RNG state that cannot be
    read does not reject the checkpoint: it is a warning naming the file (the resumed run's random draws then
    differ from an uninterrupted run's). Pickled files are picked by the names accelerate writes and read with
    accelerate's own loader (``weights_only=True``), so nothing in a checkpoint folder is ever unpickled as
    code; other pickled files in it are never opened.

    ``extra(folder)`` restores the callbacks' own files of the checkpoint used.

    Raises:
        RuntimeError: checkpoints exist but none is intact (each damaged file is named).
    """
    damaged = []
    for path in reversed(complete_checkpoints(fold_dir)):
        problem = _damaged_file(path)
        if problem is not None:
            damaged.append(problem)
            logger.warning("checkpoint file %s is damaged (%s); trying the previous checkpoint", *problem)
            continue
        rng_file = path / f"{RNG_STATE_NAME}_{accelerator.process_index}.pkl"
        try:
            load_checkpoint_file(rng_file)
        except Exception as e:  # noqa: BLE001 - any unreadable file means the same thing here
            logger.warning(
                "could not read the RNG state %s (%s): resuming without it, so random draws differ from an "
                "uninterrupted run's", rng_file, _short(e),
            )
        accelerator.load_state(str(path))
        if extra is not None:
            extra(path)
        return TrainerState(**json.loads((path / TRAINER_STATE_FILE).read_text())), path
    if damaged:
        raise RuntimeError(f"no intact checkpoint in {Path(fold_dir) / CHECKPOINTS_DIR}: " + "; ".join(f"{f} ({r})" for f, r in damaged))
    return None


# The pickled files ``accelerator.save_state`` writes that ``load_state`` reads back (``_<i>`` for the i-th
# model, optimizer, ...); the RNG states (``random_states_<rank>.pkl``) are checked on their own, each rank its own.
_ACCELERATE_PICKLES = re.compile(
    rf"{MODEL_NAME}(_\d+)?\.bin|({OPTIMIZER_NAME}|{SCHEDULER_NAME}|{SAMPLER_NAME}|dl_state_dict)(_\d+)?\.bin"
    rf"|{re.escape(SCALER_NAME)}"
)


def load_checkpoint_file(file: Path):
    """A pickled checkpoint file read as accelerate reads it: tensors, numbers and numpy arrays only
    (``weights_only=True``), so a crafted file cannot run code."""
    return accelerate_load(file, map_location="cpu")


def _damaged_file(path: Path) -> tuple[Path, str] | None:
    """The first file of a checkpoint that cannot be read back, with the reason; ``None`` when all can.

    Read: the trainer state, every safetensors file (tensors only: ``model.safetensors``,
    the callbacks' files) and accelerate's pickles by name; a stray pickle is read neither here nor by
    ``load_state``.
    """
    from safetensors.torch import load_file

    for file in sorted(path.iterdir()):
        try:
            if file.name == TRAINER_STATE_FILE:
                TrainerState(**json.loads(file.read_text()))
            elif file.suffix == ".safetensors":
                load_file(file)
            elif _ACCELERATE_PICKLES.fullmatch(file.name):
                load_checkpoint_file(file)
        except Exception as e:  # noqa: BLE001 - truncation shows up as many different exception types
            return file, _short(e)
    return None


def _short(e: Exception) -> str:
    return f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
