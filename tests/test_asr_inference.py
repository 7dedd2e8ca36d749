"""Inference runs the ASR a speech + text model was trained with (issue 26): a model trained with
``data.transcripts: {asr: ...}`` records its recogniser, and ``hf_ser.load(asr="auto")``, ``hf-ser predict``,
``serve`` and ``evaluate`` fill the inputs without a transcript with it; given transcripts win; ``asr=None`` is
speech alone. One short training run (the demo fusion recipe with a tiny random Whisper) serves the module."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from audio_fixtures import write_three_bursts

import hf_ser
from hf_ser import cli
from hf_ser.config import load_recipe
from hf_ser.errors import UserError

REPO = Path(__file__).parents[1]
ASR = "shape:tiny-whisper"
DOOR = "Kids are talking by the door"
README_SECTION = "## Speech + text prediction"


@pytest.fixture(scope="module")
def asr_run(tmp_path_factory):
    """runs/demo_fusion/model: the demo fusion recipe trained 2 steps with ASR transcripts (laid out as the
    README's lines expect, beside hf_ser/demo_data), and its HF_SER_CACHE."""
    from hf_ser.train import run

    root = tmp_path_factory.mktemp("repo")
    (root / "hf_ser").mkdir()
    (root / "hf_ser" / "demo_data").symlink_to(REPO / "hf_ser" / "demo_data")
    with pytest.MonkeyPatch.context() as monkeypatch:  # module-scoped: the cache stays set for the module's tests
        monkeypatch.setenv("HF_SER_CACHE", str(root / "cache"))
        overrides = [f"train.output_dir={root / 'runs' / 'demo_fusion'}", "train.max_steps=2", "train.batch_size=4",
                     f"data.transcripts={{asr: {ASR}}}"]
        run(load_recipe(REPO / "recipes" / "demo" / "fusion.yaml", overrides))
        yield root


@pytest.fixture(scope="module")
def model_dir(asr_run):
    return asr_run / "runs" / "demo_fusion" / "model"


def _demo_files(n: int) -> list[str]:
    return [str(p) for p in sorted((REPO / "hf_ser" / "demo_data" / "ravdess").rglob("*.wav"))[:n]]


def test_the_saved_model_records_the_asr_of_its_training_transcripts(model_dir):
    assert json.loads((model_dir / "config.json").read_text())["transcripts"] == {"asr": ASR}
    model = hf_ser.load(model_dir)
    assert model.settings.asr == ASR and model.asr == ASR
    assert hf_ser.load(model_dir, asr="none").asr is None and hf_ser.load(model_dir, asr=None).asr is None


def test_auto_runs_the_recorded_asr_for_inputs_without_a_transcript(model_dir):
    model, speech = hf_ser.load(model_dir), hf_ser.load(model_dir, asr=None)
    path = _demo_files(1)[0]
    result = model.predict(path)
    assert (result.text_source, result.modality) == ("asr", "speech+text") and result.transcript.strip()
    assert model._recogniser is not None and model._recogniser.name == ASR
    built = model._recogniser
    model.predict(path)
    assert model._recogniser is built  # built once per loaded model
    # The ASR's transcript is what the model read: the same as giving it by hand.
    by_hand = speech.predict(path, text=result.transcript)
    assert by_hand.text_source == "given" and by_hand.transcript is None
    assert result.probabilities == pytest.approx(by_hand.probabilities, abs=1e-6)
    assert result.to_dict()["text_source"] == "asr" and result.to_dict()["transcript"] == result.transcript


def test_given_transcripts_win_and_none_is_speech_alone(model_dir):
    model, speech = hf_ser.load(model_dir), hf_ser.load(model_dir, asr="none")
    files = _demo_files(2)
    mixed = model.predict(files, text=[DOOR, None])
    assert [p.text_source for p in mixed] == ["given", "asr"]
    assert [p.modality for p in mixed] == ["speech+text", "speech+text"]
    assert mixed[0].transcript is None and mixed[1].transcript
    assert mixed[0].probabilities == pytest.approx(speech.predict(files[0], text=DOOR).probabilities, abs=1e-6)
    alone = speech.predict(files[1])
    assert (alone.text_source, alone.modality, alone.transcript) == ("none", "speech", None)
    assert alone.probabilities != mixed[1].probabilities
    assert model._recogniser is not None and speech._recogniser is None  # no ASR built where none runs


def test_a_named_recogniser_runs_instead_and_a_bad_name_fails_before_the_work(model_dir):
    named = hf_ser.load(model_dir, asr="shape:whisper-tiny")
    assert named.asr == "shape:whisper-tiny" and named._recogniser is None  # lazily: nothing built yet
    result = named.predict(_demo_files(1)[0])
    assert result.text_source == "asr" and named._recogniser.name == "shape:whisper-tiny"
    with pytest.raises(UserError, match=r"asr=shape:tiny: not a Whisper shape"):
        hf_ser.load(model_dir, asr="shape:tiny")


def test_segments_transcribe_each_speech_segment(model_dir, tmp_path):
    model = hf_ser.load(model_dir)
    long = tmp_path / "interview.wav"
    write_three_bursts(long)
    result = model.segments(long)
    assert result.ok and len(result.segments) == 3
    assert all(s.text_source == "asr" and s.transcript and s.modality == "speech+text" for s in result.segments)
    assert result.text_source == "asr" and result.transcript == " ".join(s.transcript for s in result.segments)
    assert result.to_dict()["segments"][0]["transcript"] == result.segments[0].transcript


def test_asr_transcribes_past_whispers_30_second_window():
    import numpy as np

    from hf_ser.audio import SAMPLE_RATE
    from hf_ser.models.asr import build_asr

    asr = build_asr(ASR)
    rng = np.random.default_rng(0)
    first, second = (0.1 * rng.standard_normal(30 * SAMPLE_RATE).astype(np.float32) for _ in range(2))
    joined = asr.transcribe([np.concatenate([first, second[: 5 * SAMPLE_RATE]]), first])
    tail = asr.transcribe([second[: 5 * SAMPLE_RATE]])[0]
    assert joined[0] == f"{joined[1]} {tail}"  # 35 s: the first window's words, then the last 5 s's


def test_a_speech_only_model_takes_no_named_asr(tmp_path):
    from hub.tiny_run import write_tiny_model

    model_dir = write_tiny_model(tmp_path / "model")
    with pytest.raises(UserError, match="speech only and reads no transcript"):
        hf_ser.load(model_dir, asr=ASR)
    result = hf_ser.load(model_dir).predict(_demo_files(1)[0])  # auto: nothing recorded, nothing to run
    assert (result.text_source, result.modality, result.transcript) == ("none", "speech", None)
    assert cli.main(["predict", str(model_dir), _demo_files(1)[0], "--asr", ASR]) == 2


def test_hf_ser_predict_writes_the_text_source_and_the_asr_transcript(model_dir, tmp_path, capsys):
    files = _demo_files(2)
    transcripts = tmp_path / "transcripts.csv"
    transcripts.write_text(f"path,text\n{files[0]},{DOOR}\n")
    rows = {}
    for asr in ("auto", "none"):
        out = tmp_path / f"{asr}.csv"
        argv = ["predict", str(model_dir), *files, "--transcripts", str(transcripts), "--asr", asr, "--output", str(out)]
        assert cli.main([*argv, "--no-progress"]) == 0
        rows[asr] = list(csv.DictReader(out.open()))
    assert [(r["text_source"], r["modality"]) for r in rows["auto"]] == [("given", "speech+text"), ("asr", "speech+text")]
    assert rows["auto"][0]["transcript"] == "" and rows["auto"][1]["transcript"].strip()
    assert [(r["text_source"], r["modality"]) for r in rows["none"]] == [("given", "speech+text"), ("none", "speech")]
    capsys.readouterr()
    assert cli.main(["predict", str(model_dir), files[1], "--no-progress"]) == 0
    assert re.search(r"^  asr: \S", capsys.readouterr().out, flags=re.M)  # the text lines show the transcript


def test_the_server_runs_its_asr_and_a_request_transcript_wins(model_dir):
    import httpx

    from hf_ser.serve import create_app, running_server

    model = hf_ser.load(model_dir, device="cpu", asr=ASR)
    path = Path(_demo_files(1)[0])
    with running_server(create_app(model, source=model_dir)) as url:
        assert httpx.get(f"{url}/v1/model").json()["asr"] == ASR

        def post(query: str) -> dict:
            with path.open("rb") as f:
                return httpx.post(f"{url}/v1/predict{query}", files={"file": (path.name, f)}, timeout=60).json()

        by_asr, given = post(""), post("?text=Kids%20are%20talking%20by%20the%20door")
    assert (by_asr["text_source"], by_asr["modality"]) == ("asr", "speech+text") and by_asr["transcript"].strip()
    assert given["text_source"] == "given" and "transcript" not in given
    assert by_asr["transcript"] == model.predict(str(path)).transcript


def test_hf_ser_evaluate_fills_clips_without_a_transcript_through_the_training_cache(model_dir, tmp_path, capsys):
    from transformers import AutoConfig

    from hf_ser.data.transcripts import transcripts_cache_path

    labels = list(AutoConfig.from_pretrained(model_dir).id2label.values())
    corpus = tmp_path / "corpus"
    lines = ["utt_id,path,label,speaker,text"]
    for i, src in enumerate(_demo_files(3)):
        (corpus / "clips").mkdir(parents=True, exist_ok=True)
        (corpus / "clips" / f"{i}.wav").write_bytes(Path(src).read_bytes())
        lines.append(f"u{i},clips/{i}.wav,{labels[i % len(labels)]},s{i},{DOOR if i == 0 else ''}")
    (corpus / "manifest.csv").write_text("\n".join(lines) + "\n")
    cache = tmp_path / "cache"
    reports = {}
    for asr in ("auto", "none", "auto"):
        out = tmp_path / f"eval_{asr}_{len(reports)}"
        argv = ["evaluate", str(model_dir), "--corpus", "manifest", str(corpus), "--output", str(out),
                "--n-boot", "0", "--no-progress", "--asr", asr, "--cache-dir", str(cache)]
        assert cli.main(argv) == 0
        reports[out.name] = json.loads((out / "report.json").read_text())
    first, alone, again = reports.values()
    assert first["protocol"]["transcripts"]["manifest"] == {"asr": ASR, "corpora": {"manifest": {"own": 1, "cached": 0, "transcribed": 2}}}
    assert again["protocol"]["transcripts"]["manifest"]["corpora"]["manifest"]["cached"] == 2  # read back, not redone
    assert json.loads(transcripts_cache_path(cache, "manifest", ASR).read_text()).keys() == {"u1", "u2"}
    assert "transcripts" not in alone["protocol"]
    assert first["results"]["manifest"]["unmasked"]["nll"] != alone["results"]["manifest"]["unmasked"]["nll"]
    assert first["results"]["manifest"]["unmasked"]["nll"] == again["results"]["manifest"]["unmasked"]["nll"]
    capsys.readouterr()
    argv = ["evaluate", str(model_dir), "--corpus", "manifest", str(corpus), "--no-transcripts", "--asr", ASR]
    assert cli.main(argv) == 2
    assert "--no-transcripts scores speech alone" in capsys.readouterr().err


def _readme_blocks(kind: str) -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(README_SECTION) :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(rf"```{kind}\n(.*?)```", section, flags=re.S)


def test_readme_speech_plus_text_lines_run_as_written(asr_run, monkeypatch, capsys):
    (python,) = _readme_blocks("python")
    (bash,) = _readme_blocks("bash")
    monkeypatch.chdir(asr_run)
    exec(compile(python, "README.md", "exec"), {})  # noqa: S102  (the README's own lines, from this repository)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "given"
    source, modality, transcript = printed[1].split(" ", 2)
    assert (source, modality) == ("asr", "speech+text") and transcript.strip()
    assert printed[2] == "none speech"
    lines = [line for line in bash.splitlines() if line.strip()]
    assert all(line.startswith("hf-ser ") for line in lines)
    for line in lines:
        assert cli.main(line.split()[1:] + ["--no-progress"]) == 0, line
    rows = {name: list(csv.DictReader((asr_run / name).open())) for name in ("fused.csv", "speech_only.csv")}
    assert rows["fused.csv"] and all(r["text_source"] == "asr" and r["transcript"] for r in rows["fused.csv"] if not r["error"])
    assert all(r["modality"] == "speech" for r in rows["speech_only.csv"] if not r["error"])
