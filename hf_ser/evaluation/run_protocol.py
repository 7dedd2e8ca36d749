"""Read what a training run recorded about a model (source corpora, folds, label set), defensively.

A model saved by ``hf_ser/train.py`` lives in ``runs/<name>/model/``; its run directory holds
``metrics.json`` (``{"protocol": {...}}``) and ``recipe.resolved.yaml``. A model from elsewhere has neither,
and every field is then reported as unknown rather than guessed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

# Output field -> keys that may hold it, first match wins (metrics.json protocol first, then the recipe).
_FIELDS: dict[str, tuple[str, ...]] = {
    "source_corpora": ("source_corpora", "train_corpora", "corpora"),
    "validation_corpora": ("validation_corpora", "valid_corpora"),
    "folds": ("folds", "fold", "fold_protocol", "protocol"),
    "model_label_set": ("label_set", "labels"),
}


def _walk(obj: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in nested dicts/lists, breadth-first so that top-level keys win."""
    queue = [obj]
    while queue:
        cur = queue.pop(0)
        if isinstance(cur, dict):
            for k, v in cur.items():
                yield str(k), v
                queue.append(v)
        elif isinstance(cur, list):
            queue.extend(cur)


def _corpus_names(value: Any) -> list[str] | None:
    """Corpus names from a list of names, of dicts with a ``name``, or a ``{name: ...}`` dict."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [str(k) for k in value] if value and "name" not in value else [str(value["name"])]
    if isinstance(value, list):
        names = []
        for item in value:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and "name" in item:
                names.append(str(item["name"]))
        return names or None
    return None


def _read(path: Path) -> Any:
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text())
        return yaml.safe_load(path.read_text())
    except (OSError, ValueError, yaml.YAMLError) as e:
        logger.warning("could not read %s (%s); its protocol facts are unknown", path, e)
        return None


def _first(source: Any, keys: tuple[str, ...], *, corpora: bool) -> Any:
    """Value of the first of ``keys`` (in priority order) found anywhere in ``source``, or ``None``."""
    for wanted in keys:
        for key, value in _walk(source):
            if key != wanted or value in (None, "", [], {}):
                continue
            if corpora:
                value = _corpus_names(value)
            elif not isinstance(value, (str, int, float, list)):
                value = None
            if value is not None:
                return value
    return None


def read_run_protocol(model_dir: str | Path) -> dict[str, Any]:
    """Protocol facts about a saved model from its run directory (``<model_dir>/..``).

    Returns:
        ``{"source_corpora", "validation_corpora", "folds", "model_label_set", "run_protocol"}``; a value is
        ``None`` when no file records it. ``validation_corpora`` falls back to ``source_corpora`` (hf_ser's
        trainer validates on held-out speakers of its training corpora). ``run_protocol`` is the
        ``protocol`` of ``metrics.json`` verbatim.
    """
    run_dir = Path(model_dir).expanduser().resolve().parent
    metrics = _read(run_dir / "metrics.json") if (run_dir / "metrics.json").is_file() else None
    recipe = _read(run_dir / "recipe.resolved.yaml") if (run_dir / "recipe.resolved.yaml").is_file() else None
    run_protocol = metrics.get("protocol") if isinstance(metrics, dict) else None
    facts: dict[str, Any] = dict.fromkeys(_FIELDS)
    for source in (run_protocol, recipe):
        if source is None:
            continue
        for out_key, keys in _FIELDS.items():
            if facts[out_key] is None:
                facts[out_key] = _first(source, keys, corpora=out_key.endswith("_corpora"))
    # hf_ser's trainer records the fold protocol name and the fold index separately.
    if isinstance(run_protocol, dict) and isinstance(run_protocol.get("protocol"), str) and "fold" in run_protocol:
        facts["folds"] = f"{run_protocol['protocol']}, fold {run_protocol['fold']}"
    # hf_ser's trainer selects models on validation speakers of its own training corpora.
    if facts["validation_corpora"] is None:
        facts["validation_corpora"] = facts["source_corpora"]
    facts["run_protocol"] = run_protocol
    return facts
