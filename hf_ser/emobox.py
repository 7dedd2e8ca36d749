"""EmoBox's published partitions, stored as data: which clip is in which fold, and the label classes.

EmoBox (Ma et al., Interspeech 2024; github.com/emo-box/EmoBox) publishes, for every corpus it covers,
``data/<corpus>/fold_k/<corpus>_{train,test}_fold_k.jsonl``: the clips of each fold. Fold membership is a fact,
so hf_ser stores it (``hf_ser/splits_data/emobox/``, written by ``scripts/emobox_lists.py`` from an EmoBox
checkout) and the ``<corpus>_emobox`` protocols of ``hf_ser.splits`` reproduce the folds clip for clip.

Files:

* ``index.json``: per hf_ser corpus, EmoBox's corpus name, the source repository, commit and files read, the
  fold count, whether a fold has a speaker on both sides (``speaker_dependent``), EmoBox's label classes with
  the hf_ser labels they hold, and clips the hf_ser loader drops on purpose (``expected_absent``).
* ``<corpus>.tsv.gz``: one line per clip: hf_ser ``utt_id``, EmoBox's path relative to its corpus download
  folder, EmoBox's label code, and one character per fold (``t`` test, ``r`` train, ``v`` validation).
"""

from __future__ import annotations

import csv
import gzip
import json
import struct
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "splits_data" / "emobox"
SIDES = {"t": "test", "r": "train", "v": "valid"}


@dataclass(frozen=True)
class EmoBoxCorpus:
    """What ``index.json`` says about one corpus (see the module docstring)."""

    corpus: str
    emobox_name: str
    source: str
    commit: str
    files: tuple[str, ...]
    num_folds: int
    speaker_dependent: bool
    clips: int
    classes: dict[str, list[str]]  # EmoBox class -> hf_ser canonical labels it holds (first = target)
    expected_absent: dict[str, str]  # utt_id -> why the hf_ser loader drops it
    note: str = ""

    @property
    def label_map(self) -> dict[str, str]:
        """hf_ser canonical label -> the label it is scored as, so classes match EmoBox's (IEMOCAP: exc -> hap)."""
        return {label: labels[0] for labels in self.classes.values() for label in labels[1:]}

    @property
    def label_set(self) -> list[str]:
        """The canonical labels EmoBox scores for this corpus (one per EmoBox class)."""
        return sorted(labels[0] for labels in self.classes.values())


@dataclass(frozen=True)
class EmoBoxClip:
    utt_id: str
    path: str  # relative to EmoBox's corpus download folder
    label: str  # EmoBox's label code
    sides: str  # one of "trv" per fold


@lru_cache(maxsize=1)
def index() -> dict[str, EmoBoxCorpus]:
    """Every stored corpus, keyed by hf_ser corpus name."""
    raw = json.loads((DATA_DIR / "index.json").read_text(encoding="utf-8"))
    return {
        name: EmoBoxCorpus(
            corpus=name,
            emobox_name=e["emobox_name"],
            source=raw["source"],
            commit=raw["commit"],
            files=tuple(e["files"]),
            num_folds=e["num_folds"],
            speaker_dependent=e["speaker_dependent"],
            clips=e["clips"],
            classes=e["classes"],
            expected_absent=e.get("expected_absent", {}),
            note=e.get("note", ""),
        )
        for name, e in raw["corpora"].items()
    }


@cache
def clips(corpus: str) -> tuple[EmoBoxClip, ...]:
    """The stored clip list of ``corpus`` in EmoBox's order."""
    if corpus not in index():
        raise KeyError(f"EmoBox lists are stored for {sorted(index())}, not {corpus!r}")
    with gzip.open(DATA_DIR / f"{corpus}.tsv.gz", "rt", encoding="utf-8", newline="\n") as f:
        return tuple(EmoBoxClip(*line.rstrip("\n").split("\t")) for line in f if line.strip())


def fold_lists(corpus: str) -> list[dict[str, list[str]]]:
    """Per fold, ``{"train": [...], "valid": [...], "test": [...]}`` of utt_ids, as EmoBox lists them."""
    folds: list[dict[str, list[str]]] = [defaultdict(list) for _ in range(index()[corpus].num_folds)]
    for clip in clips(corpus):
        for k, side in enumerate(clip.sides):
            if side in SIDES:
                folds[k][SIDES[side]].append(clip.utt_id)
    return [{side: fold.get(side, []) for side in ("train", "valid", "test")} for fold in folds]


# ---------------------------------------------------------------------------------------------------------------
# A fixture tree laid out like EmoBox's copy of a corpus: how the lists are checked against the loaders without the
# audio (tests, and anyone checking a loader change).


def _tiny_wav(sample_rate: int = 16_000, frames: int = 1) -> bytes:
    data = b"\x00\x00" * frames
    fmt = struct.pack("<HHIIHH", 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE" + b"fmt " + struct.pack(
        "<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data


def write_fixture_tree(corpus: str, root: str | Path, entries: list[tuple[str, str]] | None = None) -> Path:
    """Write a header-valid one-sample WAV for every clip EmoBox lists (plus the metadata files the loader needs).

    Args:
        corpus: hf_ser corpus name.
        root: where the tree goes (becomes the loader's root).
        entries: ``(path, EmoBox label code)`` pairs; the stored list when ``None``.

    Returns:
        ``root``.
    """
    root = Path(root)
    if entries is None:
        entries = [(c.path, c.label) for c in clips(corpus)]
    wav = _tiny_wav()
    for rel, _ in entries:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav)
    writer = _METADATA.get(corpus)
    if writer is not None:
        writer(root, entries)
    return root


def _iemocap_metadata(root: Path, entries: list[tuple[str, str]]) -> None:
    # Labels live in Session<k>/dialog/EmoEvaluation/<dialog>.txt summary lines.
    by_file: dict[Path, list[str]] = defaultdict(list)
    for rel, label in entries:
        parts = PurePosixPath(rel).parts
        utt = PurePosixPath(rel).stem
        by_file[root / parts[0] / "dialog" / "EmoEvaluation" / f"{utt.rsplit('_', 1)[0]}.txt"].append(
            f"[0.0000 - 1.0000]\t{utt}\t{label}\t[2.5000, 2.5000, 2.5000]"
        )
    for path, lines in by_file.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n" + "\n\n".join(lines) + "\n")


def _emozionalmente_metadata(root: Path, entries: list[tuple[str, str]]) -> None:
    # No metadata in the file names: samples.csv labels them (EmoBox does not publish the actors: one speaker).
    meta = root / "metadata"
    meta.mkdir(parents=True, exist_ok=True)
    with open(meta / "samples.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["file_name", "actor", "sentence", "emotion_expressed"])
        for rel, label in entries:
            out.writerow([PurePosixPath(rel).name, "actor", "", label])
    with open(meta / "users.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["username", "gender", "age"], ["actor", "", ""]])


_METADATA: dict[str, Any] = {"iemocap": _iemocap_metadata, "emozionalmente": _emozionalmente_metadata}
