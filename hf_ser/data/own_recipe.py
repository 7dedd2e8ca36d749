"""A commented recipe drafted from your own recordings (``hf-ser recipe new``).

The draft reads the corpus as training will (labels as people write them, every file accounted for, headers only:
no audio is decoded) and writes what it found as comments above the keys it chose: the clip count and skips,
the labels with each mapping applied, the speakers, the clip durations, the protocol it suggests and why, and
the launch line. The written file is loaded back with ``load_recipe`` (schema and ``validate_recipe``) before
it is kept, so a draft always loads.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hf_ser.config import ModelConfig, load_recipe
from hf_ser.corpora import NoSpeakersError, label_mapping, load_corpus, read_columns
from hf_ser.errors import UserError
from hf_ser.splits import PREDEFINED_SIDES

# The fewest speakers a speaker-independent hold-out needs: one to test, one to validate, one to train.
MIN_SPEAKERS = 3


@dataclass(frozen=True)
class Suggestion:
    """The protocol a draft proposes, its options, and the reason written above it."""

    protocol: str
    options: dict[str, Any]
    corpus_options: dict[str, Any]
    why: str


def suggest_protocol(speakers: list[str], splits: list[str]) -> Suggestion:
    """``predefined`` when clips carry a split, a speaker hold-out with enough speakers, else a clip-level split.

    Args:
        speakers: each clip's speaker (``"unknown"`` where the data names none).
        splits: each clip's ``split`` value (``""`` where none).
    """
    named = {s for s in speakers if s.strip().lower() not in ("", "unknown")}
    counts = Counter(PREDEFINED_SIDES.get(s.strip().lower(), s) for s in splits if s)
    if counts:
        sides = ", ".join(f"{side} {n}" for side, n in sorted(counts.items()))
        return Suggestion("predefined", {}, {}, f"your split column ({sides} clips)")
    if len(named) >= MIN_SPEAKERS:
        return Suggestion(
            "holdout_speakers", {"test_fraction": 0.2}, {},
            f"{len(named)} speakers and no split column: a fifth of the speakers test, none of them trains "
            "(speaker_kfold with folds=all cross-validates instead)",
        )
    extra = {} if named else {"speakers": "unknown"}
    return Suggestion(
        "stratified_random", {"test_fraction": 0.25}, extra,
        f"{len(named) or 'no'} named speaker(s) and no split column: a quarter of each label's clips test; the "
        "split is SPEAKER-DEPENDENT and every report says so (add speakers or a split column to do better)",
    )


def draft_recipe(
    corpus: str,
    root: str | Path,
    output: str | Path,
    *,
    backbone: str | None = None,
    label_map: Mapping[str, str | None] | None = None,
    command: str = "",
) -> str:
    """Write a commented recipe for ``corpus`` at ``root`` to ``output`` and return its text.

    Args:
        corpus: registry name (``manifest``, ``audiofolder``, ``hub``, or a built-in corpus).
        root: the corpus root as the user typed it (relative to the working folder).
        output: the recipe file to write; the root is written relative to its folder.
        backbone: ``model.backbone`` (default: the recipe schema's default).
        label_map: labels to map or drop (``{"bored_maybe": None}``), written into the corpus entry.
        command: the command line that made the draft, quoted in its header.

    Raises:
        UnknownLabelsError / CorpusLayoutError: as training would, before anything is written.
        UserError: ``output`` exists (a draft never replaces a file).
    """
    output = Path(output)
    if output.exists():
        raise UserError(f"{output} exists: a draft never replaces a file; choose another -o, or move that file away")
    root_path = Path(root).expanduser().resolve()
    options: dict[str, Any] = {}
    try:
        dataset, log = load_corpus(corpus, root_path, label_map=label_map or None)
    except NoSpeakersError:  # no speaker and no split: the draft accepts unknown speakers (and says so)
        options = {"speakers": "unknown"}
        dataset, log = load_corpus(corpus, root_path, label_map=label_map or None, **options)
    cols = read_columns(dataset, ("label", "orig_label", "speaker", "split", "duration_s"))
    suggestion = suggest_protocol(cols["speaker"], cols["split"])
    options = {**options, **suggestion.corpus_options}
    labels = Counter(cols["label"])
    mapped = label_mapping(cols["orig_label"], cols["label"])
    durations = cols["duration_s"] or [0.0]
    speakers = sorted({s for s in cols["speaker"] if s.strip().lower() not in ("", "unknown")})
    name = output.stem
    folder = output.resolve().parent
    entry: dict[str, Any] = {"name": corpus, "root": os.path.relpath(root_path, folder)}
    if label_map:
        entry["label_map"] = dict(label_map)
    if options:
        entry["options"] = options
    body = {
        "name": name,
        "description": f"fine-tune on {corpus} at {entry['root']} (drafted by hf-ser recipe new)",
        "data": {
            "corpora": [entry],
            "label_set": sorted(labels),
            "protocol": suggestion.protocol,
            **({"protocol_options": suggestion.options} if suggestion.options else {}),
            "max_duration_s": float(min(20.0, max(1.0, round(max(durations), 1)))),
        },
        "model": {"backbone": backbone or ModelConfig().backbone},
        "train": {"output_dir": f"runs/{name}", "epochs": 10},
    }
    lines = [
        f"# Recipe for your own recordings, drafted by: {command or 'hf-ser recipe new'}",
        f"# Found {log.found} files: {log.used} used, {len(log.skipped)} skipped"
        + (f" ({', '.join(f'{k}: {n}' for k, n in log.to_dict()['reason_counts'].items())})" if log.skipped else "")
        + (f", {log.excluded_by_label_set} dropped by label_map" if log.excluded_by_label_set else "")
        + ". `hf-ser corpora inspect` lists each skipped file with its reason.",
        "# Labels (clips): " + ", ".join(f"{k} {n}" for k, n in sorted(labels.items())),
    ]
    if mapped:
        lines.append("# Labels as written -> used: " + ", ".join(f"{m['from']} -> {m['to']} ({m['clips']})" for m in mapped))
    lines += [
        f"# Speakers: {len(speakers)}" + (f" ({', '.join(speakers[:12])}{', ...' if len(speakers) > 12 else ''})" if speakers else " named (reports say: speakers unknown)"),
        f"# Clip durations: {min(durations):.2f}-{max(durations):.2f} s, median {statistics.median(durations):.2f} s",
        f"# Protocol {suggestion.protocol}: {suggestion.why}.",
        f"# Backbone: {body['model']['backbone']} (any Hub name or local folder; shape:tiny is a random toy for a dry run).",
        "# Relative paths here are relative to this file's folder; train.output_dir to the folder you launch from.",
        "# Launch (one GPU or CPU; `accelerate launch hf_ser/train.py` runs the same on several):",
        f"#   hf-ser train {output}",
        "# Then re-score the saved model on its own test clips:",
        f"#   hf-ser evaluate runs/{name} --split test",
    ]
    text = "\n".join(lines) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        load_recipe(tmp)  # a draft that would not load is never left behind
    except Exception:
        tmp.unlink()
        raise
    tmp.replace(output)
    return text
