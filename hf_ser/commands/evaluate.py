"""``hf-ser evaluate``: score a saved model on one or more (cross-corpus) target corpora and write a report.

    hf-ser evaluate runs/ravdess_4class/model --corpus crema_d /data/CREMA-D --label-set 4class
    hf-ser evaluate runs/my --split test      # a finished run on its own test clips (from its manifests)

A speech + text model reads each clip's transcript; clips without one get the ASR's (``--asr``: by default the
recogniser of the model's training transcripts, cached per clip as at training), or are scored from speech alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from hf_ser.commands.flags import add_asr_flag, add_trust_remote_code_flag
from hf_ser.errors import UserError  # imports nothing: --help stays free of torch

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``evaluate`` arguments on ``parser``."""
    parser.add_argument(
        "model", help="saved model dir (a run's model/ or any save_pretrained output) or Hub id; with --split, the run dir"
    )
    parser.add_argument(
        "--corpus",
        nargs=2,
        action="append",
        metavar=("NAME", "ROOT"),
        help="target corpus (registry name and root folder); repeat for several targets",
    )
    parser.add_argument(
        "--split",
        choices=("train", "valid", "test"),
        default=None,
        help="instead of --corpus: re-score a finished run (MODEL = its folder) on its own split, from its manifests",
    )
    parser.add_argument("--label-set", default="all", help="label set applied when loading the targets (default: all)")
    parser.add_argument(
        "--label-map",
        default=None,
        help='JSON object (or a .json file) renaming labels on both sides, e.g. \'{"calm": "neutral"}\'',
    )
    parser.add_argument("--output", default=None, help="report folder (default: <MODEL>/../eval_<corpora>)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu", help="torch device: cpu or cuda")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for CIs (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument(
        "--allow-validation-target",
        action="store_true",
        help="evaluate even if a target corpus was the model's validation data (numbers are then optimistic)",
    )
    parser.add_argument(
        "--window-s",
        type=float,
        default=None,
        help="window length for long clips (default: the model's training crop, data.max_duration_s)",
    )
    add_trust_remote_code_flag(parser)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--no-transcripts", action="store_true",
        help="a speech + text model scores from speech alone (default: it reads each clip's transcript)",
    )
    add_asr_flag(parser, "each clip")
    parser.add_argument(
        "--cache-dir", default=None,
        help="--asr: where transcripts are cached per clip (default: training's cache, $HF_SER_CACHE; a target "
        "transcribed at training is read back)",
    )


def parse_label_map(text: str | None) -> dict[str, str | None]:
    """Read ``--label-map``: inline JSON or a path to a JSON file, an object of str -> str or null."""
    if not text:
        return {}
    path = Path(text)
    raw = path.read_text() if not text.lstrip().startswith("{") and path.is_file() else text
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"--label-map is neither a JSON object nor a JSON file: {e}") from e
    if not isinstance(value, dict) or not all(isinstance(v, (str, type(None))) for v in value.values()):
        raise ValueError('--label-map must be a JSON object of label -> label or null, e.g. {"calm": "neutral"}')
    return {str(k): v for k, v in value.items()}


def default_output(model: str, corpora: list[str]) -> Path:
    """``<model dir>/../eval_<a+b>`` for a local model; ``./eval_<a+b>`` for a Hub id."""
    name = "eval_" + "+".join(corpora)
    path = Path(model).expanduser()
    return (path.resolve().parent / name) if path.is_dir() else Path(name)


def run(args: argparse.Namespace) -> int:
    """Evaluate ``args.model`` on every ``--corpus`` (or its run's own ``--split``) and write the report."""
    from hf_ser.evaluation.guard import CrossCorpusLeakError, check_not_validation
    from hf_ser.evaluation.inference import load_model, min_samples
    from hf_ser.run_dir import read_run_protocol

    label_map = parse_label_map(args.label_map)
    if args.split:
        return _run_split(args, label_map)
    if not args.corpus:
        raise UserError("evaluate: name a target with --corpus NAME ROOT, or re-score a run with --split test")
    names = [name for name, _ in args.corpus]
    facts = read_run_protocol(args.model) if Path(args.model).expanduser().is_dir() else {}
    if not args.allow_validation_target:
        try:
            check_not_validation(set(names), set(facts.get("validation_corpora") or []))
        except CrossCorpusLeakError as e:
            logger.error("%s (pass --allow-validation-target to evaluate anyway)", e)
            return 2
    # A folder that needs foreign code raises ForeignCodeError, a newer saved format NewerFormatError: one line and the fix, exit 2.
    model, feature_extractor = load_model(args.model, trust_remote_code=args.trust_remote_code, device=args.device)
    asr = _asr(args, model)
    protocol = _protocol(args, model, facts, names, label_map, f"all usable clips (label set {args.label_set})")
    results: dict[str, Any] = {}
    for name, root in args.corpus:
        # Clips shorter than the model's CNN receptive field give no frame: the loader skips them as too short.
        # Labels that are no known spelling reach the loader as --label-map gives them: unmapped, the load
        # stops before any audio with the line that maps or drops them.
        dataset, skip_log = _load_target(name, root, args, label_map, min_samples(model.config))
        protocol["target_loading"][name] = skip_log.to_dict()
        logger.info("%s: %d clips loaded from %s", name, len(dataset), root)
        dataset = _transcribed(dataset, asr, args, protocol, name)
        results.update(_score(name, model, feature_extractor, dataset, args, label_map))
    out_dir = Path(args.output) if args.output else default_output(args.model, names)
    return _write(results, out_dir, protocol)


def _asr(args: argparse.Namespace, model) -> str | None:
    """The recogniser that fills the targets' missing transcripts (``hf_ser.modality.choose_asr``), checked before
    any corpus is read; ``None`` with ``--no-transcripts``."""
    from hf_ser.modality import ASR_AUTO, ASR_NONE, SPEECH, choose_asr, recorded_asr
    from hf_ser.models.asr import check_recogniser

    if args.no_transcripts:
        if args.asr not in (ASR_AUTO, ASR_NONE):
            raise UserError(f"--asr {args.asr} fills transcripts and --no-transcripts scores speech alone: give one of them")
        return None
    modality = str(getattr(model.config, "modality", SPEECH))
    asr = choose_asr(args.asr, modality=modality, recorded=recorded_asr(model.config), flag="--asr")
    if asr:
        check_recogniser(asr, "--asr")
    return asr


def _transcribed(dataset, asr: str | None, args: argparse.Namespace, protocol: dict[str, Any], name: str):
    """``dataset`` with its clips' missing transcripts made by ``asr`` (training's per-clip cache), the counts in
    ``protocol["transcripts"]``; as given without a recogniser."""
    if asr is None:
        return dataset
    from hf_ser.data.store import default_cache_root
    from hf_ser.data.transcripts import fill_dataset_transcripts

    dataset, report = fill_dataset_transcripts(dataset, asr, args.cache_dir or default_cache_root(), progress=not args.no_progress)
    protocol.setdefault("transcripts", {})[name] = report
    return dataset


def _load_target(name: str, root: str, args: argparse.Namespace, label_map: dict, min_len: int):
    from hf_ser.corpora import UnknownLabelsError, load_corpus, spelled_label

    # Only the labels no spelling covers go to the loader; the rest of the map renames both sides afterwards.
    own = {k: v for k, v in label_map.items() if spelled_label(k) is None}
    try:
        return load_corpus(name, root, label_set=args.label_set, label_map=own or None, min_samples=min_len)
    except UnknownLabelsError as e:
        fix = json.dumps({label: None for label in sorted(e.counts)})
        raise UnknownLabelsError(
            f"{e.corpus}: {e.named}; map or drop each with --label-map '{fix}'", corpus=e.corpus, counts=e.counts
        ) from None


def _protocol(args, model, facts: dict, names: list[str], label_map: dict, target_split: str) -> dict[str, Any]:
    from hf_ser.evaluation.dimensional import model_dims
    from hf_ser.evaluation.inference import window_seconds

    id2label = model.config.id2label
    task = str(getattr(model.config, "task", "classification"))
    return {
        "model": str(args.model),
        "source_corpora": facts.get("source_corpora"),
        "validation_corpora": facts.get("validation_corpora"),
        "folds": facts.get("folds"),
        "model_task": task,
        "model_dims": model_dims(model),
        "model_label_set": (facts.get("model_label_set") or [id2label[i] for i in sorted(id2label)])
        if task != "regression"
        else [],
        "target_corpora": names,
        "target_split": target_split,
        "label_set": args.label_set,
        "label_map": label_map,
        "bootstrap": {"n_boot": args.n_boot, "seed": args.seed, "alpha": 0.05},
        "window_s": window_seconds(model.config, args.window_s),
        "run_protocol": facts.get("run_protocol"),
        "target_loading": {},
    }


def _score(name: str, model, feature_extractor, dataset, args: argparse.Namespace, label_map: dict) -> dict[str, Any]:
    """The results of one target: classes (and the raters' majority where known), dimensions where the model has them."""
    from hf_ser.evaluation.dimensional import evaluate_dimensions, model_dims
    from hf_ser.evaluation.evaluator import evaluate_model, rescore

    task = str(getattr(model.config, "task", "classification"))
    dims = model_dims(model)
    common = dict(
        window_s=args.window_s, batch_size=args.batch_size, device=args.device, progress=not args.no_progress,
        n_boot=args.n_boot, seed=args.seed,
    )
    results: dict[str, Any] = {}
    if task != "regression":
        results[name] = evaluate_model(
            model, feature_extractor, dataset, label_map=label_map, transcripts=not args.no_transcripts, **common
        )
        # A corpus whose raters' majority is known (CREMA-D) is also scored against it, side by side.
        perceived = rescore(results[name], dataset, "perceived_label")
        if perceived is not None:
            results[f"{name}.perceived"] = perceived
    if dims:
        key = name if task == "regression" else f"{name}.dims"
        results[key] = evaluate_dimensions(model, feature_extractor, dataset, dims=dims, **common)
    return results


def _write(results: dict[str, Any], out_dir: Path, protocol: dict[str, Any]) -> int:
    from hf_ser.evaluation.report import summary_table, write_report

    paths = write_report(results, out_dir, protocol=protocol)
    sys.stdout.write(summary_table(results, protocol) + "\n")
    sys.stdout.write(f"report: {paths['report_md']}\n")
    return 0


def _run_split(args: argparse.Namespace, label_map: dict) -> int:
    """``--split``: each fold's saved model on its own manifest clips of that side, one report per fold."""
    from hf_ser.evaluation.inference import load_model
    from hf_ser.evaluation.run_split import load_run_split, run_root
    from hf_ser.run_dir import read_run_protocol

    root = run_root(args.model)
    folds = load_run_split(root, args.split)
    for fold in folds:
        model, feature_extractor = load_model(fold.model_dir, trust_remote_code=args.trust_remote_code, device=args.device)
        asr = _asr(args, model)
        facts = read_run_protocol(fold.model_dir)
        stored = facts.get("run_protocol") or {}
        corpora = sorted(set(fold.dataset["corpus"]))
        where = f"{fold.name} " if fold.name else ""
        protocol = _protocol(args, model, facts, corpora, label_map, f"the run's own {where}{args.split} clips (its manifests)")
        # The run's test speakers are held out from training: state the split's own speaker sharing.
        protocol["speakers"] = stored.get("speakers") or None
        logger.info("%s%s: %d clips from the run's manifests", where, args.split, len(fold.dataset))
        dataset = _transcribed(fold.dataset, asr, args, protocol, "+".join(corpora))
        results = _score("+".join(corpora), model, feature_extractor, dataset, args, label_map)
        out_dir = Path(args.output) / fold.name if args.output else (root / fold.name / f"eval_{args.split}")
        _write(results, out_dir, protocol)
    return 0
