"""Nothing local in what is pushed: absolute machine paths in a run's text files become placeholders.

A run records where its corpora, outputs and caches lived (``recipe.resolved.yaml``, ``data_report.json``,
``run_info.json``, the card's recipe section). Before a push, every absolute form of those paths is
rewritten: a corpus root becomes ``<root of NAME>``, the run directory (and the recipe's ``output_dir``)
``<run dir>``, the audio cache ``<cache dir>``, the working directory ``<working dir>`` and the home
directory ``~``. Relative paths as the user wrote them (``hf_ser/demo_data/ravdess``) say nothing about the
machine and are kept. A local backbone folder (``model.backbone: /models/wavlm``) becomes ``<local backbone>``.

YAML and JSON files are scrubbed value by value and written back unwrapped (a YAML dump folds a long path
with spaces over two lines, where a plain text search misses it); any absolute path still left after the
known ones becomes ``<local path>``. ``local_paths_left`` is the last check before anything is uploaded.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".md", ".txt", ".csv")
LOCAL_PATH = "<local path>"
# An absolute path (or ~/...) at the start of a value or after a space, quote, bracket, '=' or ',': what is left
# of the machine once the known folders are replaced (a path with spaces is only caught by those).
_ABSOLUTE = re.compile(r"""(?<![^\s('"=\[,`])(?:~(?=/)|/(?=[^\s/<]))[^\s'"`)\],]*""")


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
    backbone = str(((recipe or {}).get("model") or {}).get("backbone") or "")
    if backbone and is_local_path(backbone):
        pairs += [(form, "<local backbone>") for form in _forms(backbone, cwd)]
    pairs += [(form, "<working dir>") for form in _forms(cwd, cwd)]
    pairs += [(form, "~") for form in _forms(Path.home(), cwd)]
    mapping: dict[str, str] = {}
    for path, placeholder in sorted(pairs, key=lambda kv: -len(kv[0])):
        mapping.setdefault(path, placeholder)
    return mapping


def is_local_path(name: str) -> bool:
    """Whether a model name is a folder on this machine rather than a Hub id (``org/name``) or ``shape:``."""
    if name.startswith("shape:"):
        return False
    return os.path.isabs(os.path.expanduser(name)) or name.startswith(".") or Path(name).is_dir()


def scrub_paths(text: str, placeholders: Mapping[str, str]) -> str:
    """``text`` with every key of ``placeholders`` (longest first) replaced, then any other absolute path."""
    for path in sorted(placeholders, key=len, reverse=True):
        text = text.replace(path, placeholders[path])
    return _ABSOLUTE.sub(LOCAL_PATH, text)


def scrub_value(value: Any, placeholders: Mapping[str, str]) -> Any:
    """``value`` (parsed YAML / JSON) with :func:`scrub_paths` applied to every string, keys included."""
    if isinstance(value, str):
        return scrub_paths(value, placeholders)
    if isinstance(value, Mapping):
        return {scrub_value(k, placeholders): scrub_value(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v, placeholders) for v in value]
    return value


def dump_yaml(value: Any) -> str:
    """YAML as hf_ser writes it, but never folded: one value stays on one line."""
    import yaml

    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=float("inf"))


def scrub_text_file(name: str, text: str, placeholders: Mapping[str, str]) -> str:
    """A text file's content with no local path: YAML / JSON / JSONL value by value, other text as text."""
    import yaml

    if name.endswith((".yaml", ".yml")):
        return dump_yaml(scrub_value(yaml.safe_load(text), placeholders))
    if name.endswith(".json"):
        return json.dumps(scrub_value(json.loads(text), placeholders), indent=2, ensure_ascii=False) + "\n"
    if name.endswith(".jsonl"):
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return "".join(json.dumps(scrub_value(r, placeholders), ensure_ascii=False) + "\n" for r in rows)
    return scrub_paths(text, placeholders)


def scrub_payloads(payloads: dict[str, bytes], placeholders: Mapping[str, str], *, text_files: Iterable[str] = ()) -> dict[str, bytes]:
    """Scrub the text files among ``payloads`` (by suffix, plus ``text_files``); binary files pass unchanged."""
    extra = set(text_files)
    out = {}
    for name, data in payloads.items():
        if name.endswith(TEXT_SUFFIXES) or name in extra:
            data = scrub_text_file(name, data.decode("utf-8"), placeholders).encode("utf-8")
        out[name] = data
    return out


def local_paths_left(payloads: Mapping[str, bytes], placeholders: Mapping[str, str]) -> list[str]:
    """The payloads that still hold one of the machine's known paths (the push refuses them)."""
    forms = [p.encode("utf-8") for p in placeholders if len(p) > 1]
    return sorted(name for name, data in payloads.items() if any(form in data for form in forms))
