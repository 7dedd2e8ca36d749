"""Nothing local in what is pushed: absolute machine paths in a run's text files become placeholders.

A run records where its corpora, outputs and caches lived (``recipe.resolved.yaml``, ``data_report.json``,
``run_info.json``, the card's recipe section). Before a push, every absolute form of those paths is
rewritten: a corpus root becomes ``<root of NAME>``, the run directory (and the recipe's ``output_dir``)
``<run dir>``, the audio cache ``<cache dir>``, the working directory ``<working dir>`` and the home
directory ``~``. Relative paths as the user wrote them (``hf_ser/demo_data/ravdess``) say nothing about the
machine and are kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".md", ".txt", ".csv")


def _forms(path: str | Path, base: Path) -> set[str]:
    """The absolute spellings of ``path`` (as written if absolute, against ``base``, and symlinks resolved)."""
    p = Path(os.path.expanduser(str(path)))
    absolute = p if p.is_absolute() else base / p
    forms = {str(absolute), os.path.normpath(str(absolute)), str(absolute.resolve())}
    if p.is_absolute():
        forms.add(str(path))
    return {f.rstrip("/") for f in forms if f not in ("", "/")}


def local_path_placeholders(run_dir: str | Path, recipe: Mapping[str, Any] | None) -> dict[str, str]:
    """``{absolute path: placeholder}`` for a run, longest paths first (so a root wins over its parents).

    Args:
        run_dir: the run directory being pushed.
        recipe: its resolved recipe (``recipe.resolved.yaml`` as a dict), or ``None``.
    """
    cwd = Path.cwd()
    pairs: list[tuple[str, str]] = []
    data = (recipe or {}).get("data") or {}
    for spec in list(data.get("corpora") or []) + list(data.get("eval_corpora") or []):
        if isinstance(spec, Mapping) and spec.get("root"):
            pairs += [(form, f"<root of {spec.get('name', 'corpus')}>") for form in _forms(spec["root"], cwd)]
    output_dir = ((recipe or {}).get("train") or {}).get("output_dir")
    for path in [run_dir, *([output_dir] if output_dir else [])]:
        pairs += [(form, "<run dir>") for form in _forms(path, cwd)]
    caches = [data.get("cache_dir"), os.environ.get("HF_SER_CACHE"), Path.home() / ".cache" / "hf_ser"]
    for cache in filter(None, caches):
        pairs += [(form, "<cache dir>") for form in _forms(cache, cwd)]
    pairs += [(form, "<working dir>") for form in _forms(cwd, cwd)]
    pairs += [(form, "~") for form in _forms(Path.home(), cwd)]
    mapping: dict[str, str] = {}
    for path, placeholder in sorted(pairs, key=lambda kv: -len(kv[0])):
        mapping.setdefault(path, placeholder)
    return mapping


def scrub_paths(text: str, placeholders: Mapping[str, str]) -> str:
    """``text`` with every key of ``placeholders`` (longest first) replaced by its placeholder."""
    for path in sorted(placeholders, key=len, reverse=True):
        text = text.replace(path, placeholders[path])
    return text


def scrub_payloads(payloads: dict[str, bytes], placeholders: Mapping[str, str], *, text_files: Iterable[str] = ()) -> dict[str, bytes]:
    """Scrub the text files among ``payloads`` (by suffix, plus ``text_files``); binary files pass unchanged."""
    extra = set(text_files)
    out = {}
    for name, data in payloads.items():
        if name.endswith(TEXT_SUFFIXES) or name in extra:
            data = scrub_paths(data.decode("utf-8"), placeholders).encode("utf-8")
        out[name] = data
    return out
