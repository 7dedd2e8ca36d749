"""The committed demo corpora follow the real corpora's naming rules, rates, coverage and size budget.

The file-name regexes are written here from the corpus spec (corpora.md), independent of the loaders, so a
loader bug and a demo-data bug cannot hide each other.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hf_ser.audio import load_audio, silence_reason
from hf_ser.demo_data import DEMO_CORPORA, DEMO_DATA_DIR, demo_root

REPO_ROOT = Path(__file__).resolve().parents[1]
# "~11 MB" for all demo data together; 11 MiB is what `du -sh` shows as 11M.
SIZE_BUDGET_BYTES = 11 * 1024 * 1024
ESPEAK_VERSION_OF_COMMITTED_DATA = "1.51"

RAVDESS_RE = re.compile(r"^03-01-(0[1-8])-(0[12])-(0[12])-(0[12])-(0[1-9]|1\d|2[0-4])\.wav$")
CREMA_D_SENTENCES = "IEO|TIE|IOM|IWW|TAI|MTI|IWL|ITH|DFA|ITS|TSI|WSI"
CREMA_D_RE = re.compile(rf"^(10[0-9][0-9])_({CREMA_D_SENTENCES})_(ANG|DIS|FEA|HAP|NEU|SAD)_(LO|MD|HI|XX)\.wav$")
EMODB_RE = re.compile(r"^(03|08|09|10|11|12|13|14|15|16)(a0[12457]|b0[123]|b09|b10)([WLEAFTN])([a-z])\.wav$")
EMODB_MALE = {"03", "10", "11", "12", "15"}
EMOVO_RE = re.compile(r"^(dis|gio|neu|pau|rab|sor|tri)-([fm][123])-(b[1-3]|l[1-4]|n[1-5]|d[12])\.wav$")
CREMA_D_SILENT = "1076_MTI_SAD_XX.wav"


def _files(corpus: str, pattern: str = "*") -> list[Path]:
    return sorted(p for p in demo_root(corpus).rglob(pattern) if p.is_file())


def _wavs() -> list[Path]:
    return [p for corpus in DEMO_CORPORA for p in _files(corpus, "*.wav")]


def test_demo_root_registry():
    assert demo_root("ravdess") == DEMO_DATA_DIR / "ravdess"
    with pytest.raises(KeyError, match="crema_d"):
        demo_root("iemocap")
    for corpus in DEMO_CORPORA:
        assert demo_root(corpus).is_dir(), corpus


def test_ravdess_names_layout_and_rules():
    files = _files("ravdess", "*.wav")
    assert files
    seen = defaultdict(set)
    for path in files:
        m = RAVDESS_RE.match(path.name)
        assert m, f"not a RAVDESS audio-only speech name: {path.name}"
        emotion, intensity, statement, _rep, actor = m.groups()
        assert not (emotion == "01" and intensity == "02"), f"strong neutral does not exist: {path.name}"
        rel = path.relative_to(demo_root("ravdess")).parts
        assert rel == ("Audio_Speech_Actors_01-24", f"Actor_{actor}", path.name)
        seen[actor].add((emotion, statement))
    emotions = {f"{e:02d}" for e in range(1, 9)}
    assert len(seen) >= 12
    assert {int(a) % 2 for a in seen} == {0, 1}, "both genders (odd = male, even = female)"
    for actor, combos in seen.items():
        assert {e for e, _ in combos} == emotions, f"Actor_{actor} lacks an emotion"
    # Across actors, every emotion is spoken with both statements.
    pairs = set().union(*seen.values())
    assert pairs == {(e, s) for e in emotions for s in ("01", "02")}


def test_crema_d_names_rules_and_demographics():
    wavs = _files("crema_d", "*.wav")
    assert all(p.parent.name == "AudioWAV" and p.parent.parent == demo_root("crema_d") for p in wavs)
    with open(demo_root("crema_d") / "VideoDemographics.csv", newline="", encoding="utf-8") as f:
        header = f.readline().rstrip("\n")
        rows = list(csv.reader(f))
    assert header == '"ActorID","Age","Sex","Race","Ethnicity"'
    sex = {int(r[0]): r[2] for r in rows}
    assert set(sex.values()) <= {"Male", "Female"}
    assert all(1001 <= a <= 1091 for a in sex)

    emotions, sentences_by_emotion, actors = set(), defaultdict(set), set()
    for path in wavs:
        m = CREMA_D_RE.match(path.name)
        assert m, f"not a CREMA-D name: {path.name}"
        actor, sentence, emotion, level = m.groups()
        assert int(actor) in sex, f"actor {actor} missing from VideoDemographics.csv"
        if level != "XX":
            assert sentence == "IEO", f"levels LO/MD/HI exist only for IEO: {path.name}"
        if emotion == "NEU":
            assert level == "XX", f"neutral has no level: {path.name}"
        if path.name != CREMA_D_SILENT:
            emotions.add(emotion)
            sentences_by_emotion[emotion].add(sentence)
            actors.add(int(actor))
    assert emotions == {"ANG", "DIS", "FEA", "HAP", "NEU", "SAD"}
    assert all(len(s) >= 2 for s in sentences_by_emotion.values())
    genders = [sex[a] for a in actors]
    assert genders.count("Male") >= 3 and genders.count("Female") >= 3
    # The known-bad file is the only clip of actor 1076, like the real corpus's one silent WAV.
    assert [p.name for p in wavs if p.name.startswith("1076_")] == [CREMA_D_SILENT]


def test_emodb_names_and_coverage():
    files = _files("emodb")
    assert files and all(p.parent == demo_root("emodb") / "wav" for p in files)
    letters, speakers = defaultdict(set), set()
    for path in files:
        m = EMODB_RE.match(path.name)
        assert m, f"not an EMO-DB name: {path.name}"
        speaker, text, letter, _version = m.groups()
        letters[speaker].add(letter)
        speakers.add(speaker)
    assert all(v == set("WLEAFTN") for v in letters.values())
    assert speakers & EMODB_MALE and speakers - EMODB_MALE, "both genders"


def test_emovo_names_and_coverage():
    files = _files("emovo")
    emotions = defaultdict(set)
    for path in files:
        m = EMOVO_RE.match(path.name)
        assert m, f"not an EMOVO name: {path.name}"
        emotion, actor, _sentence = m.groups()
        assert path.parent.name == actor and path.parent.parent == demo_root("emovo")
        emotions[actor].add(emotion)
    assert len(emotions) >= 2
    assert {a[0] for a in emotions} == {"f", "m"}
    assert all(v == {"dis", "gio", "neu", "pau", "rab", "sor", "tri"} for v in emotions.values())


def test_no_stray_files():
    allowed = {DEMO_DATA_DIR / "__init__.py", DEMO_DATA_DIR / "README.md"}
    allowed.add(demo_root("crema_d") / "VideoDemographics.csv")
    allowed |= {demo_root("crema_d") / "processedResults" / n for n in ("tabulatedVotes.csv", "summaryTable.csv")}
    allowed.add(demo_root("ravdess") / "dimensions.csv")
    stray = [
        p
        for p in DEMO_DATA_DIR.rglob("*")
        if p.is_file() and p not in allowed and p.suffix != ".wav" and "__pycache__" not in p.parts
        and not (p.suffix == ".TextGrid" and p.is_relative_to(DEMO_DATA_DIR / "alignments"))
    ]
    assert stray == []


def test_crema_d_vote_tables_match_the_clips_and_regenerate(tmp_path):
    from hf_ser.corpora import load_corpus
    from hf_ser.corpora._votes import NO_AGREEMENT

    ds, _ = load_corpus("crema_d", demo_root("crema_d"))
    assert all(r["n_raters"] >= 8 and sum(r["votes"]) == r["n_raters"] for r in ds)
    perceived = [r["perceived_label"] for r in ds]
    # The demo shows what the real tables show: ties and clips heard as another emotion than acted.
    assert NO_AGREEMENT in perceived
    assert any(p not in (r["label"], NO_AGREEMENT) for p, r in zip(perceived, ds))
    _load_generator().main(["--out", str(tmp_path), "--annotations-only"])
    for rel in ("crema_d/processedResults/tabulatedVotes.csv", "crema_d/processedResults/summaryTable.csv",
                "ravdess/dimensions.csv"):
        assert (tmp_path / rel).read_bytes() == (DEMO_DATA_DIR / rel).read_bytes(), rel


def test_ravdess_dimensions_manifest_covers_every_clip():
    from hf_ser.corpora import load_corpus

    ds, log = load_corpus("manifest", demo_root("ravdess") / "dimensions.csv")
    assert len(ds) == len(_files("ravdess", "*.wav")) == log.used
    for dim in ("valence", "arousal", "dominance"):
        assert all(1.0 <= v <= 5.0 for v in ds[dim])
    # The placement orders the emotions as intended: anger is more aroused than sadness on average.
    mean = {lab: sum(a for a, lb in zip(ds["arousal"], ds["label"]) if lb == lab) / 12 for lab in ("anger", "sadness")}
    assert mean["anger"] > mean["sadness"] + 1.5


def test_sample_rates_and_format():
    for path in _wavs():
        info = sf.info(str(path))
        expected = 48_000 if path.is_relative_to(demo_root("emovo")) else 16_000
        assert info.samplerate == expected, path.name
        assert info.channels == 1 and info.subtype == "PCM_16", path.name


def test_size_budget():
    total = sum(p.stat().st_size for p in DEMO_DATA_DIR.rglob("*") if p.is_file())
    assert total <= SIZE_BUDGET_BYTES, f"demo data is {total / 2**20:.2f} MiB > {SIZE_BUDGET_BYTES / 2**20} MiB"


def test_only_the_known_bad_crema_d_file_is_silent():
    for path in _wavs():
        wave, sr = load_audio(path, target_sr=None)
        duration = len(wave) / sr
        if path.name == CREMA_D_SILENT:
            # Normal length, no signal: only a level check can catch it (as in the real corpus).
            assert np.all(wave == 0)
            assert silence_reason(wave) is not None
            assert 2.0 < duration < 3.0
        else:
            assert silence_reason(wave) is None, path.name
            assert 0.6 < duration < 5.0, f"{path.name}: {duration:.2f} s"
            # Trimmed: no long digital silence at either end.
            edge = int(0.05 * sr)
            assert np.abs(wave[:edge]).max() > 0 and np.abs(wave[-edge:]).max() > 0, path.name


def _pitch_track(wave: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-F0 of voiced 40-ms frames (normalised autocorrelation peak in 60-500 Hz) and every frame's RMS.

    Returns:
        ``(log_f0: (voiced_frames,), rms: (frames,))``.
    """
    n, hop = int(0.04 * sr), int(0.01 * sr)
    lo, hi = int(sr / 500), int(sr / 60)
    frames = np.lib.stride_tricks.sliding_window_view(wave, n)[::hop]
    frames = frames - frames.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, 2 * n, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), axis=1)[:, :n]
    rms = np.sqrt(np.maximum(ac[:, 0], 0.0) / n)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    peak = ac[np.arange(len(ac)), lag] / np.maximum(ac[:, 0], 1e-12)
    voiced = (ac[:, 0] > 1e-8) & (peak > 0.5)
    return np.log(sr / lag[voiced]), rms


def _features(path: Path) -> list[float]:
    """Per-clip prosody features that survive per-clip mean/variance normalisation."""
    wave, sr = load_audio(path)
    wave = (wave - wave.mean()) / (wave.std() + 1e-8)
    lf, rms = _pitch_track(wave, sr)
    half = len(lf) // 2
    return [
        lf.mean(),
        lf.std(),
        np.percentile(lf, 90) - np.percentile(lf, 10),
        lf[half:].mean() - lf[:half].mean(),  # rising (questions, surprise) or falling contour
        len(wave) / sr,
        float(np.mean(np.abs(np.diff(np.sign(wave))) > 0)),
        len(lf) / len(rms),  # voiced fraction
        float(np.mean(rms < 0.1 * rms.max())),  # pause fraction
    ]


def test_ravdess_voices_follow_actor_gender():
    f0 = defaultdict(list)
    for path in _files("ravdess", "*.wav"):
        wave, sr = load_audio(path)
        f0[int(path.name[-6:-4])].append(float(np.exp(np.median(_pitch_track(wave, sr)[0]))))
    male = [np.median(v) for a, v in f0.items() if a % 2 == 1]
    female = [np.median(v) for a, v in f0.items() if a % 2 == 0]
    assert max(male) < min(female), (male, female)


def test_ravdess_emotions_learnable_but_not_trivial():
    """Speaker-disjoint (leave-one-actor-out) logistic regression on prosody features: above chance, < 100%."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    files = _files("ravdess", "*.wav")
    x = np.array([_features(p) for p in files])
    y = np.array([p.name[6:8] for p in files])
    groups = np.array([p.name[-6:-4] for p in files])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    pred = cross_val_predict(clf, x, y, groups=groups, cv=LeaveOneGroupOut())
    accuracy = float(np.mean(pred == y))
    assert 0.25 < accuracy < 0.9, accuracy  # chance is 1/8 = 0.125


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_demo_data", REPO_ROOT / "scripts" / "make_demo_data.py")
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve string annotations through sys.modules, so the module must be registered.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _espeak_version() -> str | None:
    if shutil.which("espeak-ng") is None:
        return None
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"text-to-speech:\s*(\S+)", out)
    return m.group(1) if m else None


@pytest.mark.skipif(
    _espeak_version() != ESPEAK_VERSION_OF_COMMITTED_DATA,
    reason=f"regenerating byte-identical files needs espeak-ng {ESPEAK_VERSION_OF_COMMITTED_DATA}",
)
def test_generator_reproduces_committed_files(tmp_path):
    # CREMA-D alone covers synthesis, the demographics CSV and the silent file, in a few seconds.
    _load_generator().main(["--out", str(tmp_path), "--corpora", "crema_d"])
    for corpus in ("crema_d",):
        made = sorted(p.relative_to(tmp_path) for p in (tmp_path / corpus).rglob("*") if p.is_file())
        committed = sorted(p.relative_to(DEMO_DATA_DIR) for p in _files(corpus))
        assert made == committed
        for rel in made:
            assert (tmp_path / rel).read_bytes() == (DEMO_DATA_DIR / rel).read_bytes(), rel
