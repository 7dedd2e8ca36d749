"""Write word boundaries for every demo RAVDESS clip as TextGrid files, taken from the synthesiser itself.

The demo clips are espeak-ng speech (``scripts/make_demo_data.py``). espeak speaks words without pauses,
so the pause aligner fails on every clip, and no CTC model can be downloaded here. But the synthesiser
knows where its words are. For each clip this script:

* re-synthesises it with the generator's exact settings (``clip_settings`` / ``espeak_command``: voice,
  pitch, rate, word gap, pitch range, drawn clause pauses, final mark), once with the espeak-ng command
  line and once through ``libespeak-ng`` (ctypes, one fresh process per clip), which reports the sample at
  which each word starts (its word events);
* checks that both syntheses are sample-identical, that the trimmed and resampled synthesis reproduces the
  committed clip (same length, same 16-bit samples up to one rounding step), and that there is one word
  event per statement word;
* writes the words as intervals: a word runs to the next word's start; when the clip is silent before the
  next word (below the generator's trim threshold, for at least 30 ms), the word ends one trim margin
  (20 ms) after its last loud frame and the silence becomes an empty interval, as in Montreal Forced
  Aligner output. Times are relative to the clip, i.e. after the generator's leading-silence trim.

Prefix re-synthesis ("Kids", "Kids are", ..., each prefix's trimmed length = end of its last word) was tried
first and rejected: espeak lengthens a prefix's last word (phrase-final lengthening), so measured against
the word events on the 96 clips its ends were late by 78-221 ms on average per word position, up to 670 ms.

These are synthesiser boundaries, i.e. what a perfect forced aligner would give; on real corpora use the
CTC aligner (``data.alignment: {aligner: ctc, model: ...}``) or Montreal Forced Aligner TextGrids.

Output: ``<out>/Audio_Speech_Actors_01-24/Actor_NN/<clip name>.TextGrid`` (long text format, one interval
tier "words", lower-case words), mirroring the corpus like MFA does, so that ``TextGridAligner(<out>)``
finds them from each row's ``rel_path``.

Usage (needs espeak-ng 1.51, the version that made the committed clips)::

    python scripts/make_demo_alignments.py       # rewrites hf_ser/demo_data/alignments/ravdess
    python scripts/make_demo_alignments.py --out /tmp/alignments
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

logger = logging.getLogger("make_demo_alignments")

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = "ravdess"
# Same threshold and margin as make_demo_data.trim_silence (its defaults).
TRIM_DB = -35.0
TRIM_MARGIN_S = 0.02
# A gap shorter than this between a word's end and the next word's onset is not written as silence.
MIN_SILENCE_S = 0.03
TIME_DECIMALS = 5


def load_generator():
    """Import ``scripts/make_demo_data.py`` (scripts/ is not a package)."""
    name = "make_demo_data"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / "make_demo_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Interval:
    """One TextGrid interval; ``text`` is "" for silence."""

    start_s: float
    end_s: float
    text: str


def _words(prosodic_text: str) -> list[str]:
    """The spoken words with their drawn commas, final mark removed: ``["Kids", "are,", "talking", ...]``."""
    words = prosodic_text.split()
    words[-1] = words[-1].rstrip(".!?")
    return words


def normalise(word: str) -> str:
    """Lower case without punctuation, as MFA writes words."""
    return "".join(c for c in word.lower() if c.isalnum() or c == "'")


# ----------------------------------------------------------------------- word onsets from libespeak-ng

# espeak_EVENT from espeak-ng's speak_lib.h (1.51); the layout is checked by reproducing the CLI's waveform.
_EVENT_WORD = 1
_EVENT_LIST_TERMINATED = 0
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_SSML = 0x10
# espeak_PARAMETER ids for the CLI flags -s, -a, -p, -g.
_PARAMETER_OF_FLAG = {"-s": 1, "-a": 2, "-p": 3, "-g": 7}


def _event_types():
    import ctypes

    class EventId(ctypes.Union):
        _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]

    class Event(ctypes.Structure):
        _fields_ = [
            ("type", ctypes.c_int),
            ("unique_identifier", ctypes.c_uint),
            ("text_position", ctypes.c_int),
            ("length", ctypes.c_int),
            ("audio_position", ctypes.c_int),  # ms
            ("sample", ctypes.c_int),  # samples from the start of the synthesis
            ("user_data", ctypes.c_void_p),
            ("id", EventId),
        ]

    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(Event))
    return Event, callback


def synthesise_with_word_onsets(cmd: list[str]) -> tuple[np.ndarray, list[int]]:
    """Speak an ``espeak_command`` through libespeak-ng and collect its word events.

    Runs in a fresh process per clip (``--word-onsets``): the library keeps state between syntheses, and
    only a fresh instance reproduces the CLI's output sample for sample.

    Returns:
        ``((samples,) int16 waveform at espeak's rate, sample index where each word starts)``.
    """
    import ctypes
    import ctypes.util

    _, callback_type = _event_types()
    lib = ctypes.CDLL(ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1")
    chunks: list[np.ndarray] = []
    onsets: list[int] = []

    def on_audio(wav, n, events) -> int:
        if wav and n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            # A clause end can add a zero-length word event after the last word: only real words count.
            if events[i].type == _EVENT_WORD and events[i].length > 0:
                onsets.append(int(events[i].sample))
            i += 1
        return 0

    keep_alive = callback_type(on_audio)
    if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0) <= 0:
        raise RuntimeError("espeak_Initialize failed")
    lib.espeak_SetSynthCallback(keep_alive)
    lib.espeak_SetVoiceByName(cmd[cmd.index("-v") + 1].encode())
    for flag, parameter in _PARAMETER_OF_FLAG.items():
        lib.espeak_SetParameter(parameter, int(cmd[cmd.index(flag) + 1]), 0)
    ssml = cmd[-1].encode("utf-8")
    lib.espeak_Synth(ssml, len(ssml) + 1, 0, _POS_CHARACTER, 0, _ESPEAK_SSML, None, None)
    lib.espeak_Synchronize()
    lib.espeak_Terminate()
    return np.concatenate(chunks), onsets


def _word_onsets_main(index: int) -> None:
    gen = load_generator()
    clip = gen.ravdess_clips()[index]
    p, text = gen.clip_settings(clip)
    wave, onsets = synthesise_with_word_onsets(gen.espeak_command(clip, p, text, Path("unused.wav")))
    sys.stdout.write(json.dumps({"onsets": onsets, "sha1": hashlib.sha1(wave.tobytes()).hexdigest()}))


def word_onsets(index: int) -> tuple[list[int], str]:
    """Word onsets (samples) of RAVDESS demo clip ``index`` and the sha1 of the int16 synthesis, from a child."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--word-onsets", str(index)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    return [int(x) for x in data["onsets"]], str(data["sha1"])


# -------------------------------------------------------------------------------------------- alignment


def align_clip(gen, index: int, clip, work_dir: Path) -> tuple[list[Interval], float]:
    """Word intervals of one clip from espeak-ng's word events; checks the synthesis against the file.

    Returns:
        ``(intervals covering [0, duration], duration_s)``.

    Raises:
        ValueError: the re-synthesis does not reproduce the committed clip, or the spans are inconsistent.
    """
    p, text = gen.clip_settings(clip)
    words = _words(text)
    full, sr = gen.speak(gen.espeak_command(clip, p, text, work_dir / "clip.wav"))
    start, stop = gen.trim_bounds(full, sr, TRIM_DB, TRIM_MARGIN_S)
    full_pcm = np.round(full * 32768).astype(np.int16)  # load_audio gave int16 / 32768: exact

    onsets, sha1 = word_onsets(index)
    if sha1 != hashlib.sha1(full_pcm.tobytes()).hexdigest():
        raise ValueError(f"{clip.rel_path}: libespeak-ng's synthesis differs from the espeak-ng CLI's")
    if len(onsets) != len(words):
        raise ValueError(f"{clip.rel_path}: {len(onsets)} word events for {len(words)} words")

    committed, committed_sr = sf.read(str(REPO_ROOT / "hf_ser" / "demo_data" / clip.rel_path), dtype="int16")
    remade = gen.finish(full, sr, clip.sample_rate)
    remade_pcm = np.clip(np.round(remade * 32768), -32768, 32767).astype(np.int16)
    if committed_sr != clip.sample_rate or len(remade_pcm) != len(committed):
        raise ValueError(f"{clip.rel_path}: re-synthesis has {len(remade_pcm)} samples, the file {len(committed)}")
    max_diff = int(np.max(np.abs(remade_pcm.astype(np.int32) - committed.astype(np.int32))))
    if max_diff > 1:  # rounding of the float -> PCM_16 conversion may differ by one step
        raise ValueError(f"{clip.rel_path}: re-synthesis differs from the file (max |diff| {max_diff} LSB)")
    duration = len(committed) / committed_sr

    # Word k runs from its onset to the next word's onset; a pause (drawn comma or word gap) before the next
    # word becomes an empty interval, from one trim margin after word k's last loud frame.
    threshold = _loudest_rms(full, sr) * 10 ** (TRIM_DB / 20)
    margin = int(TRIM_MARGIN_S * sr)
    bounds = [max(o, start) for o in onsets[1:]] + [stop]
    intervals: list[Interval] = []
    word_start = start
    for k, word in enumerate(words):
        end = bounds[k]
        speech_end = end
        if k + 1 < len(words):
            speech_end = min(end, _offset(full, sr, word_start, end, threshold) + margin)
        intervals.append(Interval((word_start - start) / sr, (speech_end - start) / sr, normalise(word)))
        if end - speech_end >= MIN_SILENCE_S * sr:
            intervals.append(Interval((speech_end - start) / sr, (end - start) / sr, ""))
        else:
            intervals[-1] = Interval(intervals[-1].start_s, (end - start) / sr, intervals[-1].text)
        word_start = end
    intervals = _fit(intervals, duration)
    _check(intervals, [normalise(w) for w in words], duration, clip.rel_path)
    return intervals, duration


def _offset(wave: np.ndarray, sr: int, start: int, stop: int, threshold: float) -> int:
    """End of the last 10-ms frame in ``wave[start:stop]`` whose RMS is above ``threshold`` (``start`` if none)."""
    hop = sr // 100
    for b in range(stop, start + hop - 1, -hop):
        if np.sqrt(np.mean(wave[b - hop : b] ** 2)) > threshold:
            return b
    return start


def _loudest_rms(wave: np.ndarray, sr: int) -> float:
    hop = sr // 100
    n = len(wave) // hop
    return float(np.sqrt(np.mean(wave[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12).max())


def _fit(intervals: list[Interval], duration: float) -> list[Interval]:
    """Round times, make the intervals tile ``[0, duration]`` (the last word ends at the clip's end)."""
    out = []
    for i, iv in enumerate(intervals):
        start = 0.0 if i == 0 else out[-1].end_s
        end = duration if i == len(intervals) - 1 else min(round(iv.end_s, TIME_DECIMALS), duration)
        out.append(Interval(start, end, iv.text))
    return out


def _check(intervals: list[Interval], words: list[str], duration: float, name: str) -> None:
    spoken = [iv for iv in intervals if iv.text]
    if [iv.text for iv in spoken] != words:
        raise ValueError(f"{name}: words {[iv.text for iv in spoken]} != {words}")
    for a, b in zip(intervals, intervals[1:]):
        if a.end_s != b.start_s:
            raise ValueError(f"{name}: intervals do not tile the clip at {a.end_s}")
    for iv in intervals:
        if not 0.0 <= iv.start_s < iv.end_s <= duration:
            raise ValueError(f"{name}: interval {iv} empty or outside [0, {duration}]")


def _time(seconds: float) -> str:
    """Seconds without float noise, exact for sample counts at 16 kHz (1/16000 s = 0.0000625 s)."""
    return f"{seconds:.7f}".rstrip("0").rstrip(".") or "0"


def textgrid(intervals: list[Interval], duration: float, tier: str = "words") -> str:
    """A Praat TextGrid in the long text format with one interval tier, as MFA writes it."""
    lines = [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        f"xmax = {_time(duration)} ",
        "tiers? <exists> ",
        "size = 1 ",
        "item []: ",
        "    item [1]:",
        '        class = "IntervalTier" ',
        f'        name = "{tier}" ',
        "        xmin = 0 ",
        f"        xmax = {_time(duration)} ",
        f"        intervals: size = {len(intervals)} ",
    ]
    for i, iv in enumerate(intervals, start=1):
        lines += [
            f"        intervals [{i}]:",
            f"            xmin = {_time(iv.start_s)} ",
            f"            xmax = {_time(iv.end_s)} ",
            f'            text = "{iv.text}" ',
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    default_out = REPO_ROOT / "hf_ser" / "demo_data" / "alignments" / CORPUS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=default_out, help="output root (mirrors the corpus root)")
    parser.add_argument("--word-onsets", type=int, default=None, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args(argv)
    if args.word_onsets is not None:
        _word_onsets_main(args.word_onsets)
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    gen = load_generator()
    logger.info("using %s", gen.check_espeak())

    # Written beside the output and swapped in at the end: a failed check or a run that reads the
    # alignments meanwhile never sees a half-written tree.
    staging = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    prefix = f"{CORPUS}/"
    clips = gen.ravdess_clips()
    with tempfile.TemporaryDirectory() as tmp:
        for index, clip in enumerate(clips):
            intervals, duration = align_clip(gen, index, clip, Path(tmp))
            dest = staging / Path(clip.rel_path.removeprefix(prefix)).with_suffix(".TextGrid")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(textgrid(intervals, duration), encoding="utf-8")
    shutil.rmtree(args.out, ignore_errors=True)
    staging.rename(args.out)
    size = sum(f.stat().st_size for f in args.out.rglob("*.TextGrid"))
    logger.info("%d TextGrids, %.1f KB, under %s", len(clips), size / 1e3, args.out)


if __name__ == "__main__":
    main()
