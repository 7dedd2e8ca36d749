"""Fine-tune a speech emotion model on a recipe.

    accelerate launch hf_ser/train.py recipes/demo/ravdess_tiny.yaml [key=value ...] [--resume | --overwrite]
    python -m hf_ser.train recipes/demo/ravdess_tiny.yaml train.epochs=2

``main(argv)`` parses; ``run(cfg)`` does the work and is what in-process callers use (``hf-ser matrix``,
``hf-ser bench``). Reads top to bottom: output folder check -> Accelerator -> corpora (decoded once) -> folds
-> per fold, ``hf_ser.training.fold.FoldRecipe`` (its named steps: ``setup_data``, ``setup_model``,
``setup_optim``, ``train``, ``select``, ``evaluate``, ``report``) -> aggregate over folds (and push).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator, DistributedDataParallelKwargs
from accelerate.utils import set_seed

from hf_ser.acceleration import accelerator_kwargs
from hf_ser.augment.align import compute_alignments
from hf_ser.config import RecipeConfig, add_recipe_arguments, fold_numbers, recipe_from_args, to_dict
from hf_ser.data.prepare import prepare_corpora
from hf_ser.data.store import default_cache_root
from hf_ser.errors import RecipeError
from hf_ser.evaluation.guard import check_not_validation
from hf_ser.model_kinds import min_input_samples
from hf_ser.reporting import aggregate_folds
from hf_ser.run_dir import (
    DATA_REPORT_FILE,
    RECIPE_FILE,
    RUN_INFO_FILE,
    check_output_dir,
    clear_output_dir,
    failed_start,
    fold_dir,
    run_info,
    tracker_dirs,
    write_json,
    write_recipe,
)
from hf_ser.splits import PROTOCOLS, Fold, make_folds
from hf_ser.training.callbacks import Callback
from hf_ser.training.fold import FoldRecipe
from hf_ser.validate import validate_recipe

logger = logging.getLogger("hf_ser.train")

def parse_args(argv: list[str] | None) -> RecipeConfig:
    """The checked recipe of a training command line (``hf_ser.config.add_recipe_arguments``)."""
    parser = argparse.ArgumentParser(prog="hf_ser/train.py", description=__doc__.splitlines()[0])
    add_recipe_arguments(parser)
    return recipe_from_args(parser.parse_args(argv))


def setup_logging() -> None:
    """INFO logs with timestamps; accelerate's per-file checkpoint logs off (the progress bar says where we are)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("accelerate").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """In-process command-line entry: parse the recipe and overrides, then ``run`` it (errors propagate; the
    ``hf-ser train`` command and the script entry print user errors as one line)."""
    setup_logging()
    run(parse_args(argv))
    return 0


def run(cfg: RecipeConfig, *, callbacks: Sequence[Callback] = ()) -> dict[str, Any]:
    """Train every chosen fold of ``cfg`` in this process (what ``main`` does after parsing).

    Args:
        cfg: the resolved recipe.
        callbacks: the caller's own extensions of every fold (``hf_ser.training.callbacks``), called after the
            ones the recipe turns on; they are shared by the folds.

    Returns:
        ``{"run_dir": str, "folds": {fold index: the fold's metrics.json content}, "aggregate": dict | None,
        "timing": {fold index: the fold's timing.json content}}``.
    """
    run_dir = Path(cfg.train.output_dir)
    # Before any work: the whole recipe (configs built in code, such as matrix cells and bench variants, are
    # checked like loaded ones), then the output folder (a non-empty one needs --resume with the stored recipe,
    # or --overwrite).
    validate_recipe(cfg)
    recipe_changes = check_output_dir(cfg)
    if cfg.push_to_hub:
        _check_push_possible()
    _warn_single_process_cpu_launch()
    accelerator = Accelerator(
        # Launched by torchrun (`accelerate launch --multi_gpu`) on a machine without CUDA: DDP over gloo.
        cpu=not torch.cuda.is_available() and "LOCAL_RANK" in os.environ,
        gradient_accumulation_steps=cfg.train.grad_accum_steps,
        mixed_precision=_precision(cfg.train.mixed_precision),
        log_with=cfg.tracking.report_to or None,
        project_dir=str(run_dir),
        # Frozen layers have requires_grad=False, so DDP never waits for their gradients.
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=False)],
        **accelerator_kwargs(cfg.train),  # non-blocking copies on CUDA, torch.compile when asked
    )
    set_seed(cfg.train.seed)
    _refuse_target_as_training(cfg)
    if accelerator.is_main_process:
        if run_dir.is_dir() and ((cfg.overwrite and not cfg.resume) or failed_start(run_dir)):
            # --overwrite, or what a failed start left (hf_ser's own start files only)
            clear_output_dir(run_dir, extra=tracker_dirs(cfg))
        run_dir.mkdir(parents=True, exist_ok=True)
        if not (cfg.resume and (run_dir / RECIPE_FILE).is_file()):  # a resumed run keeps its recipe
            write_recipe(cfg, run_dir)
        elif recipe_changes:
            logger.info("resuming with changed %s", recipe_changes)
    accelerator.wait_for_everyone()

    # Decode every corpus once (cached across runs). Every process calls this: per cache folder one builds under
    # a file lock and the others wait on the lock, not on a collective barrier, so a long first build on a
    # node-local or shared disk cannot hit the process group's timeout.
    # Clips shorter than the CNN's receptive field give no frame: the loaders skip them as "too short".
    min_samples = min_input_samples(cfg.model)
    data = prepare_corpora(
        cfg.data.corpora, label_set=cfg.data.label_set, cache_dir=cfg.data.cache_dir,
        progress=accelerator.is_main_process, min_samples=min_samples, store_dtype=cfg.data.store_dtype,
        max_file_s=cfg.data.max_file_s,
    )
    targets = {
        spec.name: prepare_corpora(
            [spec], label_set="all", cache_dir=cfg.data.cache_dir, progress=False, min_samples=min_samples,
            store_dtype=cfg.data.store_dtype, max_file_s=cfg.data.max_file_s,
        )
        for spec in cfg.data.eval_corpora
    }
    transcripts = None
    if cfg.data.transcripts is not None:
        # Every process fills the same cache files (atomic writes); later runs read them.
        from hf_ser.data.transcripts import fill_transcripts

        root = cfg.data.cache_dir or default_cache_root()
        progress = accelerator.is_main_process
        transcripts = {"train": fill_transcripts(data, cfg.data.transcripts.asr, root, progress=progress)}
        transcripts.update({n: fill_transcripts(t, cfg.data.transcripts.asr, root, progress=False) for n, t in targets.items()})
    if accelerator.is_main_process:
        report = {"train": data.report(), "targets": {n: t.report() for n, t in targets.items()}}
        if transcripts is not None:
            report["transcripts"] = transcripts
        write_json(run_dir / DATA_REPORT_FILE, report)
        write_json(run_dir / RUN_INFO_FILE, run_info(cfg, data.fingerprint(), accelerator.num_processes))

    alignments = None
    if any(spec.get("name") == "word_swap" for spec in cfg.data.augment):
        # Word boundaries of every clip, computed once per corpus (not per fold) and cached.
        with accelerator.main_process_first():
            alignments = compute_alignments(
                data.dataset, cfg.data.alignment, get_wave=data.wave, progress=accelerator.is_main_process,
                cache_root=Path(cfg.data.cache_dir) if cfg.data.cache_dir else default_cache_root(),
            )

    protocol = PROTOCOLS[cfg.data.protocol]
    folds = make_folds(data.dataset, cfg.data.protocol, seed=cfg.train.seed, **cfg.data.protocol_options)
    chosen = _select_folds(cfg.folds, folds)
    if cfg.tracking.report_to:
        accelerator.init_trackers(
            cfg.tracking.project,
            config=_flat(to_dict(cfg)),
            init_kwargs={"wandb": {"name": cfg.tracking.run_name or cfg.name, "tags": cfg.tracking.tags, "dir": str(run_dir)}},
        )
    fold_metrics, fold_times = {}, {}
    for fold in chosen:
        recipe = FoldRecipe(
            cfg, accelerator, data, targets, fold, fold_dir(run_dir, fold.index, len(folds)),
            speaker_independent=protocol.speaker_independent, alignments=alignments, recipe_changes=recipe_changes,
            callbacks=callbacks,
        )
        fold_metrics[fold.index], fold_times[fold.index] = recipe.run(), recipe.times
        accelerator.free_memory()
    aggregate = None
    if accelerator.is_main_process and len(folds) > 1:
        aggregate = aggregate_folds(run_dir, fold_metrics, protocol=cfg.data.protocol, speaker_independent=protocol.speaker_independent)
    if accelerator.is_main_process and cfg.push_to_hub:
        # Once per run, after the aggregate: the card shows every fold and mean ± std.
        _push_finished_run(run_dir, cfg, end=accelerator.end_training)
    accelerator.end_training()
    return {"run_dir": str(run_dir), "folds": fold_metrics, "aggregate": aggregate, "timing": fold_times}


def _check_push_possible() -> None:
    """``push_to_hub: true``: the token and the network are checked before training, not after it."""
    from hf_ser.hub.auth import resolve_token
    from hf_ser.hub.push import check_hub_access

    check_hub_access(resolve_token(None))


def _push_finished_run(run_dir: Path, cfg: RecipeConfig, *, end: Callable[[], None]) -> None:
    """Push at the end of training; a failure leaves the run as it is and says how to push it later."""
    from hf_ser.hub.push import HubPushError, push_run

    repo_id = cfg.hub_repo_id or cfg.name
    try:
        push_run(run_dir, repo_id, private=cfg.hub_private)
    except HubPushError as e:
        end()
        private = " --private" if cfg.hub_private else ""
        raise HubPushError(
            f"training finished and {run_dir} is complete, but the push failed ({e}); "
            f"push it later with: hf-ser push {run_dir} --repo-id {repo_id}{private}"
        ) from None


def _select_folds(spec: str, folds: list[Fold]) -> list[Fold]:
    """The folds ``spec`` names, by the protocol's own fold numbers (``Fold.index``), not list positions.

    On a partial corpus ``make_folds`` omits folds without test data, so positions and protocol numbers differ;
    every directory, table and warning uses the protocol's number.
    """
    chosen = fold_numbers(spec)
    if chosen is None:
        return list(folds)
    by_index = {fold.index: fold for fold in folds}
    bad = [k for k in chosen if k not in by_index]
    if bad:
        raise RecipeError(
            f"folds={spec}: fold(s) {bad} are not in this run; the protocol's folds present in the data are "
            f"{sorted(by_index)} (set folds= to some of them, or folds=all)"
        )
    return [by_index[k] for k in chosen]


def _warn_single_process_cpu_launch() -> None:
    # `accelerate launch --cpu --num_processes N` only starts N processes through mpirun (with a hostfile);
    # without it accelerate starts one process and sets MASTER_ADDR, which is how we recognise the case.
    if os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true") and "MASTER_ADDR" in os.environ and "WORLD_SIZE" not in os.environ:
        logger.warning(
            "accelerate's --cpu launcher started ONE process (several CPU processes need mpirun). For N-process "
            "CPU DDP run: accelerate launch --config_file recipes/accelerate/cpu_2proc.yaml hf_ser/train.py RECIPE"
        )


def _precision(name: str) -> str:
    if name != "auto":
        return name
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def _refuse_target_as_training(cfg: RecipeConfig) -> None:
    # Validation speakers come from the training corpora, so a target among them would steer model selection.
    check_not_validation({s.name for s in cfg.data.eval_corpora}, {s.name for s in cfg.data.corpora})


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = json.dumps(v) if isinstance(v, (list, tuple)) else v
    return out


if __name__ == "__main__":
    # As a script (accelerate launch hf_ser/train.py, python -m hf_ser.train) the command line is the
    # `train` command's: the same arguments, user errors as one line (exit 2), --debug for the traceback.
    from hf_ser.commands.train import main as command_main

    sys.exit(command_main())
