"""What hf_ser supports and what is on disk: the reports behind ``hf-ser corpora list`` / ``inspect``.

``inspect_corpus`` loads the corpus, runs the audio checks through the audio store (so silent or unreadable files
are reported as skipped, and the decoded audio is cached for training), and summarises the clips, speakers, label
counts, skipped files and the folds of every protocol written for the corpus.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import datasets

from hf_ser import splits
from hf_ser.corpora import (
    CORPORA,
    LABEL_SETS,
    clip_key,
    get_corpus,
    label_mapping,
    load_corpus,
    read_columns,
    resolve_label_set,
    speaker_key,
)
from hf_ser.data.corpus_cache import header_folder
from hf_ser.data.store import AudioStore, default_cache_root

logger = logging.getLogger(__name__)

GENERIC_NOTE = "generic protocols (any corpus or mix): " + ", ".join(
    name for name, p in splits.PROTOCOLS.items() if p.corpus is None
)


def list_table() -> str:
    """A readable table of every registered corpus."""
    rows = []
    for name, entry in CORPORA.items():
        info = entry.info
        label_sets = [s for s in LABEL_SETS if _label_set_fits(s, info.labels)]
        protocols = sorted(set(splits.protocols_for(name)) | {p for p in info.protocols if p in splits.PROTOCOLS})
        rows.append([name, ",".join(info.languages) or "-", " ".join(label_sets), " ".join(protocols) or "-"])
    return _table(["corpus", "languages", "label sets", "protocols"], rows) + "\n" + GENERIC_NOTE


def _label_set_fits(name: str, labels: Sequence[str]) -> bool:
    mapping = resolve_label_set(name)
    if mapping is None:
        return True
    # A label set is usable when the corpus has at least two of its classes.
    return len({mapping[lab] for lab in labels if lab in mapping}) >= 2


def inspect_corpus(
    name: str,
    root: str | Path,
    *,
    label_set: str | Sequence[str] = "all",
    audio_check: bool = True,
    cache_root: str | Path | None = None,
    label_map: Mapping[str, str | None] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Load ``name`` from ``root`` and summarise it (the structure ``--json`` prints).

    Returns:
        ``{"corpus", "languages", "clips", "speakers", "labels": {label: count}, "label_mapping": [{"from", "to",
        "clips"}], "skipped": [{"path",
        "reason"}], "folds": {protocol: [{"test_speakers", "test_clips"}]}}``; paths are relative to ``root``
        and test speakers are corpus-local ids.
    """
    entry = get_corpus(name)
    cache = Path(cache_root) if cache_root is not None else default_cache_root()
    dataset, log = load_corpus(
        name, root, label_set=label_set, label_map=label_map or None, header_cache=header_folder(cache),
        **dict(options or {}),
    )
    if audio_check and len(dataset):
        _, dataset = AudioStore.prepare(dataset, cache, skip_log=log, progress=sys.stderr.isatty())
    cols = read_columns(dataset, ("language", "speaker", "label", "orig_label"))
    languages = list(entry.info.languages) or sorted(set(cols["language"]) - {""})
    return {
        "corpus": name,
        "languages": languages,
        "clips": len(dataset),
        "speakers": len(set(cols["speaker"])),
        "labels": dict(sorted(Counter(cols["label"]).items())),
        "label_mapping": label_mapping(cols["orig_label"], cols["label"]),
        "skipped": [{"path": s.path, "reason": s.reason} for s in log.skipped],
        "folds": _folds_report(dataset, name, entry.info.protocols),
    }


def _folds_report(dataset: datasets.Dataset, name: str, declared: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    report: dict[str, list[dict[str, Any]]] = {}
    if not len(dataset):
        return report
    cols = read_columns(dataset, ("corpus", "speaker", "utt_id"))
    speakers = [speaker_key(c, s) for c, s in zip(cols["corpus"], cols["speaker"])]
    clips = [clip_key(c, u) for c, u in zip(cols["corpus"], cols["utt_id"])]
    for protocol in sorted(set(splits.protocols_for(name)) | {p for p in declared if p in splits.PROTOCOLS}):
        try:
            # strict=False: a partial copy of a corpus still shows the folds it can fill.
            folds = splits.make_folds(dataset, protocol, strict=False)
        except ValueError as e:
            logger.warning("protocol %s does not apply: %s", protocol, e)
            continue
        entries = []
        for fold in folds:
            if fold.by_clip:
                test = set(fold.test_clips)
                count = sum(c in test for c in clips)
            else:
                test = set(fold.test_speakers)
                count = sum(s in test for s in speakers)
            entries.append(
                {"test_speakers": [k.split("/", 1)[1] for k in fold.test_speakers], "test_clips": count}
            )
        report[protocol] = entries
    return report


def report_tables(report: dict[str, Any]) -> str:
    """The inspect report as readable tables."""
    lines = [
        f"corpus {report['corpus']} ({', '.join(report['languages']) or 'language unknown'}): "
        f"{report['clips']} usable clips, {report['speakers']} speakers",
        "",
        _table(["label", "clips"], [[k, str(v)] for k, v in report["labels"].items()]),
    ]
    if report.get("label_mapping"):
        lines += ["", "labels as written -> labels used:"]
        lines.append(_table(["written", "used", "clips"], [[m["from"], m["to"], str(m["clips"])] for m in report["label_mapping"]]))
    if report["skipped"]:
        lines += ["", f"skipped {len(report['skipped'])} files:"]
        lines.append(_table(["path", "reason"], [[s["path"], s["reason"]] for s in report["skipped"]]))
    for protocol, folds in report["folds"].items():
        lines += ["", f"protocol {protocol}:"]
        rows = [[str(i), str(f["test_clips"]), " ".join(f["test_speakers"])] for i, f in enumerate(folds)]
        lines.append(_table(["fold", "test clips", "test speakers"], rows))
    return "\n".join(lines)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*row) for row in rows]
    return "\n".join(line.rstrip() for line in out)
