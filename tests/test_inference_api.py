"""hf_ser.load(...).predict: paths, lists, in-memory arrays; the same numbers as evaluate's path and the pipeline."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import write_corrupt, write_wav
from hub.tiny_run import LABELS, write_tiny_model

import hf_ser
from hf_ser.inference import Prediction


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def model(model_dir):
    return hf_ser.load(model_dir, device="cpu")


def test_import_hf_ser_stays_light_and_load_is_there():
    code = "import sys, hf_ser; assert callable(hf_ser.load); print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_predict_a_path_gives_the_label_and_every_class_probability(model, tmp_path):
    path = write_wav(tmp_path / "a.wav", seconds=1.2, sample_rate=22_050, freq_hz=330)
    result = model.predict(path)
    assert isinstance(result, Prediction) and result.error is None
    assert list(result.probabilities) == LABELS
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.label == max(result.probabilities, key=result.probabilities.get)
    assert result.duration_s == pytest.approx(1.2, abs=1e-3)
    as_json = json.loads(json.dumps(result.to_dict(k=2)))
    assert as_json["label"] == result.label and as_json["source"] == str(path)
    assert [row["label"] for row in as_json["top_k"]] == sorted(LABELS, key=lambda lab: -result.probabilities[lab])[:2]


def test_a_list_in_gives_a_list_out_with_errors_in_place(model, tmp_path):
    good = write_wav(tmp_path / "good.wav", seconds=0.8)
    bad = write_corrupt(tmp_path / "bad.wav")
    results = model.predict([good, bad, str(good)])
    assert [r.ok for r in results] == [True, False, True]
    assert "unreadable" in results[1].error
    assert results[0].probabilities == results[2].probabilities


def test_an_array_gives_the_numbers_of_the_same_audio_read_from_disk(model, tmp_path):
    rng = np.random.default_rng(3)
    wave = (0.2 * rng.standard_normal(48_000)).astype(np.float32)
    sf.write(tmp_path / "x.wav", wave, 48_000, subtype="FLOAT")
    from_disk = model.predict(tmp_path / "x.wav")
    from_memory = model.predict((wave, 48_000))
    assert from_memory.source == "<array>" and from_memory.label == from_disk.label
    assert from_memory.probabilities == pytest.approx(from_disk.probabilities, abs=1e-6)
    with pytest.raises(TypeError, match="sampling rate"):
        model.predict(wave)


def test_same_numbers_as_evaluate_and_as_the_pipeline_on_a_clip_within_the_window(model_dir, model, tmp_path):
    """evaluate's path (infer_logits) windows like the API; the transformers pipeline scores the clip whole,
    which is the same as long as the clip fits in one window."""
    from transformers import pipeline

    from hf_ser.evaluation.inference import infer_logits, load_model
    from hf_ser.evaluation.windowing import softmax

    paths = [write_wav(tmp_path / f"{i}.wav", seconds=0.6 + 0.5 * i, freq_hz=140 + 70 * i, seed=i) for i in range(3)]
    long_path = tmp_path / "long.wav"
    sf.write(long_path, (0.2 * np.random.default_rng(9).standard_normal(16_000 * 5)).astype(np.float32), 16_000)
    paths.append(long_path)
    windowed = hf_ser.load(model_dir, device="cpu", window_s=2.0)
    api = windowed.predict(paths)
    torch_model, extractor = load_model(model_dir)
    logits, failures = infer_logits(torch_model, extractor, [str(p) for p in paths], window_s=2.0, progress=False)
    assert not failures
    for result, row in zip(api, softmax(logits)):
        assert [result.probabilities[lab] for lab in LABELS] == pytest.approx(row.tolist(), abs=1e-6)
    assert len(api[-1].segments) == 4  # 5 s in 2-s windows every 1 s: 0, 1, 2, 3
    classifier = pipeline("audio-classification", model=str(model_dir), device="cpu")
    for path, result in zip(paths[:3], api[:3]):
        wave, rate = sf.read(path, dtype="float32")  # the pipeline decodes paths with ffmpeg; give it the samples
        rows = classifier({"raw": wave, "sampling_rate": rate}, top_k=len(LABELS))
        assert {r["label"]: r["score"] for r in rows} == pytest.approx(result.probabilities, abs=1e-5)
