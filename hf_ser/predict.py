"""Label audio files or folders in batch: the library half of ``hf-ser predict``, over ``hf_ser.load``.

Every number comes from ``hf_ser.inference`` (``EmotionModel.iter_predict`` / ``iter_segments``); this module
finds the files, writes the rows as they come (``.csv`` or ``.jsonl``, flushed per file, so a killed job keeps
what it finished and ``resume`` skips it), draws the timelines and counts what was done and skipped, with the
reason per file. Files soundfile cannot decode (``.m4a``, ``.webm``, ...) are picked up from folders too and
reported with the ffmpeg command that converts them: nothing is skipped silently.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hf_ser.audio import FFMPEG_ONLY_EXTENSIONS, SOUNDFILE_EXTENSIONS
from hf_ser.errors import UserError
from hf_ser.inference import EmotionModel, Prediction, Segment, VadSettings, load, top_k
from hf_ser.inference.results import ABSTAIN, TEXT_FIELDS
from hf_ser.modality import SPEECH_TEXT

logger = logging.getLogger(__name__)

OUTPUT_FORMATS = (".csv", ".jsonl")
# Extensions picked up when walking folders (files named explicitly are always tried).
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS | FFMPEG_ONLY_EXTENSIONS


def collect_audio_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Expand folders (recursively, audio extensions only) and keep files as given, in a stable order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS))
        else:
            out.append(p)
    return out


def predict_files(
    model_dir_or_id: str | Path,
    paths: Sequence[str | Path],
    *,
    batch_size: int = 8,
    device: str | None = None,
    window_s: float | None = None,
    trust_remote_code: bool = False,
    backend: str = "torch",
) -> list[Prediction]:
    """``hf_ser.load(model_dir_or_id, backend).predict`` on every audio file in ``paths`` (files or folders)."""
    model = load(
        model_dir_or_id, backend, device=device, trust_remote_code=trust_remote_code, window_s=window_s, batch_size=batch_size
    )
    return list(model.iter_predict(collect_audio_paths(paths)))


def read_transcripts(path: str | Path) -> dict[str, str]:
    """Transcripts for a speech + text model from a CSV with columns ``path`` and ``text`` (``path`` as the audio
    files are given on the command line); files without a row are predicted from speech alone.

    Raises:
        UserError: the file is missing or lacks a ``path`` / ``text`` column.
    """
    file = Path(path)
    if not file.is_file():
        raise UserError(f"--transcripts {file}: no such file; give a CSV with columns path,text")
    with file.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not {"path", "text"} <= set(reader.fieldnames or ()):
            raise UserError(f"--transcripts {file}: needs columns path,text (found {reader.fieldnames})")
        return {str(Path(row["path"])): row["text"] for row in reader}


# ---------------------------------------------------------------------------------------------- rows
def columns(model: EmotionModel, *, segment: bool, k: int | None) -> list[str]:
    """CSV columns: one ``p_<class>`` per class and one per dimension; segment mode adds ``kind``
    (``file`` / ``segment``), ``start_s`` and ``end_s``; a speech + text model adds ``modality`` (what each
    prediction used), ``text_source`` (``given`` / ``asr`` / ``none``) and the ASR's ``transcript``."""
    head = ["source"] + (["kind", "start_s", "end_s"] if segment else []) + ["label"]
    probs = [f"p_{lab}" for lab in model.labels] + list(model.dims)
    ranks = [name for i in range(1, (k or 0) + 1) for name in (f"top{i}", f"top{i}_p")]
    tail = ["duration_s"] + (["speech_s"] if segment else []) + (list(TEXT_FIELDS) if model.settings.modality == SPEECH_TEXT else [])
    tail += ["error"]
    return head + probs + ranks + tail


def csv_rows(result: Prediction, model: EmotionModel, *, segment: bool, k: int | None) -> list[dict[str, Any]]:
    """The CSV rows of one file: in segment mode its segments, then its file row (written last: a file is done
    once its file row is there)."""

    def row(item, **extra) -> dict[str, Any]:
        out = {"source": result.source, "label": item.label or "", **extra}
        out.update({name: getattr(item, name) or "" for name in TEXT_FIELDS})
        out.update({f"p_{lab}": round(p, 6) for lab, p in item.probabilities.items()})
        out.update({d: round(v, 6) for d, v in item.dims.items()})
        for i, entry in enumerate(top_k(item.probabilities, k) if k else [], start=1):
            out[f"top{i}"], out[f"top{i}_p"] = entry["label"], entry["probability"]
        return out

    file_row = row(result, duration_s=round(result.duration_s, 3), error=result.error or "")
    if not segment:
        return [file_row]
    file_row.update(kind="file", speech_s="" if result.speech_s is None else round(result.speech_s, 3))
    segs = [row(s, kind="segment", start_s=round(s.start_s, 3), end_s=round(s.end_s, 3)) for s in result.segments]
    return segs + [file_row]


class RowWriter:
    """Rows of finished files appended to ``.csv`` / ``.jsonl`` and flushed per file.

    With ``resume``, a file already there is read back: files with a complete record are ``done`` (skipped by
    the caller); an unfinished tail (a killed job) is dropped. Without ``resume``, an existing file is refused:
    hf_ser does not overwrite what it may not have written.
    """

    def __init__(self, path: str | Path, fieldnames: list[str], *, resume: bool) -> None:
        self.path = Path(path)
        self.fieldnames = fieldnames
        self.jsonl = self.path.suffix.lower() == ".jsonl"
        if self.path.suffix.lower() not in OUTPUT_FORMATS:
            raise UserError(f"--output {self.path}: the name must end in .csv or .jsonl (the format is chosen by it)")
        self.done: set[str] = set()
        if self.path.exists():
            if not resume:
                raise UserError(f"--output {self.path} exists: pass --resume to continue it, or choose another name")
            self._read_back()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        self._file = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115  (closed by close())
        self._csv = None if self.jsonl else csv.DictWriter(self._file, fieldnames=fieldnames, extrasaction="ignore")
        if self._csv is not None and fresh:
            self._csv.writeheader()
            self._file.flush()

    def _read_back(self) -> None:
        text = self.path.read_text(encoding="utf-8")
        lines = text[: text.rfind("\n") + 1].splitlines(keepends=True)  # a partly written last line is dropped
        keep: list[str] = []
        if self.jsonl:
            for line in lines:
                record = json.loads(line)
                self.done.add(record["source"])
                keep.append(line)
        else:
            if lines:
                header = next(csv.reader(lines[:1]))
                if header != self.fieldnames:
                    raise UserError(
                        f"--resume {self.path}: its columns differ from this run's (another model, --segment or "
                        "--top-k); continue with the options that wrote it, or write to a new file"
                    )
                keep.append(lines[0])
                pending: list[str] = []
                for line, record in zip(lines[1:], csv.DictReader(lines)):
                    pending.append(line)
                    if record.get("kind", "file") in ("file", None, ""):
                        self.done.add(record["source"])
                        keep += pending
                        pending = []
        if "".join(keep) != text:  # rows of an unfinished file: drop them so the file is redone once
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(keep), encoding="utf-8")
            os.replace(tmp, self.path)

    def write(self, result: Prediction, rows: list[dict[str, Any]], k: int | None) -> None:
        if self.jsonl:
            self._file.write(json.dumps(result.to_dict(k)) + "\n")
        else:
            self._csv.writerows(rows)
        self._file.flush()

    def close(self) -> None:
        self._file.close()


# ---------------------------------------------------------------------------------------------- batch run
@dataclass
class BatchSummary:
    """What a batch run did: files done (of them, answered ``abstain`` under ``min_confidence``), skipped (with
    the reason each), already in the output."""

    done: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    resumed: int = 0
    output: str | None = None
    abstained: int = 0
    min_confidence: float | None = None

    def line(self) -> str:
        """One line: ``predict: 10 files done (7 labelled, 3 abstained below 0.9), 2 skipped (unreadable audio:
        1, too short: 1), ...``."""
        kinds = Counter(reason.split(" (")[0].split(":")[0].split(";")[0] for reason in self.skipped.values())
        text = f"predict: {self.done} files done"
        if self.min_confidence is not None:
            text += f" ({self.done - self.abstained} labelled, {self.abstained} abstained below {self.min_confidence:g})"
        text += f", {len(self.skipped)} skipped"
        if kinds:
            text += " (" + ", ".join(f"{kind}: {n}" for kind, n in kinds.most_common()) + ")"
        if self.resumed:
            text += f", {self.resumed} already in {self.output}"
        if self.output:
            text += f"; rows in {self.output}"
        return text


def plot_name(source: str, used: set[str]) -> str:
    """A PNG name for ``source`` unique in this run (``clip.wav.png``, ``clip.wav-2.png``, ...)."""
    base = Path(source).name or "audio"
    name, n = f"{base}.png", 1
    while name in used:
        n += 1
        name = f"{base}-{n}.png"
    used.add(name)
    return name


def run_batch(
    model: EmotionModel,
    paths: Sequence[str | Path],
    *,
    output: str | Path | None = None,
    resume: bool = False,
    k: int | None = None,
    vad: VadSettings | None = None,
    plot_dir: str | Path | None = None,
    progress: bool = True,
    on_result: Callable[[Prediction], None] | None = None,
    transcripts: dict[str, str] | None = None,
) -> BatchSummary:
    """Label every audio file in ``paths``; rows go to ``output`` as each file finishes.

    Args:
        vad: segment each file by voice activity (``model.segments``) instead of labelling it whole.
        k: add the ``k`` most probable classes to every row.
        plot_dir: write an emotion timeline PNG per file there.
        on_result: called with every result (the command prints them when there is no ``output``).
        transcripts: ``{path: transcript}`` for a speech + text model (``read_transcripts``); not with ``vad``.
    """
    from tqdm.auto import tqdm

    files = [str(p) for p in collect_audio_paths(paths)]
    segment = vad is not None
    writer = RowWriter(output, columns(model, segment=segment, k=k), resume=resume) if output else None
    summary = BatchSummary(output=str(output) if output else None, min_confidence=model.min_confidence)
    todo = [f for f in files if writer is None or f not in writer.done]
    summary.resumed = len(files) - len(todo)
    used: set[str] = set()
    if transcripts and segment:
        raise UserError("--transcripts labels whole files; it does not combine with --segment vad")
    if transcripts and model.settings.modality != SPEECH_TEXT:
        raise UserError(f"--transcripts: this model uses {model.settings.modality} only; drop --transcripts")
    texts = [transcripts.get(str(Path(f))) for f in todo] if transcripts else None
    results: Iterator[Prediction] = model.iter_segments(todo, vad) if segment else model.iter_predict(todo, texts)
    try:
        for result in tqdm(results, total=len(todo), desc="predict", unit="file", disable=not progress):
            if result.error:
                summary.skipped[result.source] = result.error
            else:
                summary.done += 1
                summary.abstained += result.label == ABSTAIN
            if writer is not None:
                writer.write(result, csv_rows(result, model, segment=segment, k=k), k)
            if plot_dir is not None and not result.error and model.labels:
                from hf_ser.evaluation.plots import plot_timeline

                segments = result.segments or [_whole(result)]
                plot_timeline(
                    segments, model.labels, result.duration_s, Path(plot_dir) / plot_name(result.source, used),
                    title=f"{Path(result.source).name}: {result.label}",
                )
            if on_result is not None:
                on_result(result)
    finally:
        if writer is not None:
            writer.close()
    return summary


def _whole(result: Prediction) -> Segment:
    return Segment(0.0, result.duration_s, result.label, result.probabilities, result.dims)
