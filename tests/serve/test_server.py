"""`hf-ser serve`: the same JSON as hf_ser.load(...).predict, concurrent requests micro-batched, a bounded queue,
and bad input answered 413 / 415 / 422 while the server keeps answering. Bound to 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import io
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import write_corrupt, write_wav
from hub.tiny_run import LABELS, write_tiny_model

import hf_ser
from hf_ser.serve import (
    BatchSettings,
    MicroBatcher,
    Overloaded,
    ServeSettings,
    UploadLimits,
    create_app,
    running_server,
    sniff_format,
)

LIMITS = UploadLimits(max_bytes=200_000, max_duration_s=5.0)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A tiny random wav2vec2 classifier loaded by hf_ser.load, and its folder."""
    folder = write_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
    return folder, hf_ser.load(folder, device="cpu")


@pytest.fixture(scope="module")
def model(served):
    return served[1]


@pytest.fixture(scope="module")
def server(served):
    folder, model = served
    app = create_app(model, source=folder, settings=ServeSettings(LIMITS, BatchSettings(max_batch=8, max_wait_ms=50)))
    with running_server(app) as url:
        yield url, app


def _post(url: str, path, name: str | None = None, query: str = "") -> httpx.Response:
    with open(path, "rb") as f:
        return httpx.post(f"{url}/v1/predict{query}", files={"file": (name or path.name, f)}, timeout=60)


def test_health_model_and_page(server):
    url, _ = server
    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    described = httpx.get(f"{url}/v1/model").json()
    assert described["labels"] == LABELS and described["backend"] == "torch"
    assert described["backbone"]["model_type"] == "wav2vec2"
    assert described["limits"] == {"max_bytes": LIMITS.max_bytes, "max_duration_s": LIMITS.max_duration_s}
    page = httpx.get(url).text
    assert 'id="file"' in page and 'id="record"' in page and 'id="timeline"' in page
    assert 'src="http' not in page and 'href="http' not in page  # no CDN: everything inline


def test_predict_returns_what_the_python_api_returns(server, model, tmp_path):
    url, _ = server
    path = write_wav(tmp_path / "clip.wav", seconds=1.5, sample_rate=22_050, freq_hz=300)
    expected = model.predict(path).to_dict(3)
    expected["source"] = "clip.wav"
    response = _post(url, path, query="?top_k=3")
    assert response.status_code == 200, response.text
    assert response.json() == expected
    assert len(response.json()["top_k"]) == 3
    raw = httpx.post(f"{url}/v1/predict", content=path.read_bytes(), timeout=60)  # raw bytes, no multipart
    assert raw.status_code == 200
    assert raw.json()["probabilities"] == expected["probabilities"] and raw.json()["source"] == "upload"


def test_min_confidence_abstains_below_the_threshold_and_keeps_the_probabilities(server, model, tmp_path):
    from hf_ser.inference.results import ABSTAIN

    url, _ = server
    path = write_wav(tmp_path / "clip.wav", seconds=1.5, freq_hz=300)
    top = max(model.predict(path).probabilities.values())
    above = _post(url, path, query=f"?min_confidence={top / 2}")
    below = _post(url, path, query=f"?min_confidence={min(1.0, top * 1.01 + 1e-6)}")
    assert above.json()["label"] != ABSTAIN and below.json()["label"] == ABSTAIN
    assert below.json()["probabilities"] == above.json()["probabilities"]  # probabilities are kept
    assert _post(url, path, query="?min_confidence=1.5").status_code == 422


def test_segment_vad_returns_what_segments_returns(server, model):
    from pathlib import Path

    speech = sorted((Path(__file__).parents[2] / "hf_ser/demo_data/ravdess").rglob("*.wav"))[0]
    expected = model.segments(speech)
    response = _post(server[0], speech, query="?segment=vad&top_k=2")
    if expected.error:  # e.g. no speech found: the reason comes back as a 422
        assert response.status_code == 422 and expected.error in response.json()["error"]
    else:
        assert response.status_code == 200, response.text
        wanted = expected.to_dict(2)
        wanted["source"] = speech.name
        assert response.json() == wanted
        assert response.json()["speech_s"] > 0 and response.json()["segments"]


def test_twenty_concurrent_predictions_succeed_in_micro_batches(server, model, tmp_path):
    url, app = server
    paths = [write_wav(tmp_path / f"c{i}.wav", seconds=0.5 + 0.1 * (i % 5), freq_hz=200 + 20 * i, seed=i) for i in range(20)]
    before = app.state.batcher.batches_run
    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(lambda p: _post(url, p), paths))
    assert [r.status_code for r in responses] == [200] * 20
    for path, response in zip(paths, responses):
        assert response.json()["label"] == model.predict(path).label
    assert app.state.batcher.batches_run - before < 20  # requests shared forward passes
    assert app.state.batcher.largest_batch > 1


def test_bad_input_gets_413_415_422_and_the_server_keeps_answering(server, tmp_path):
    url, _ = server
    text = tmp_path / "notes.txt"
    text.write_text("this is not audio\n" * 20)
    r = _post(url, text)
    assert r.status_code == 415 and "not audio" in r.json()["error"]

    m4a = tmp_path / "voice.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + b"\x00" * 200)
    r = _post(url, m4a)
    assert r.status_code == 415 and "ffmpeg -i" in r.json()["error"]

    big = tmp_path / "big.wav"
    big.write_bytes(b"\x00" * (LIMITS.max_bytes + 100_000))
    r = httpx.post(f"{url}/v1/predict", content=big.read_bytes(), timeout=60)
    assert r.status_code == 413 and r.json()["limit"] == {"max_bytes": LIMITS.max_bytes}

    long = write_wav(tmp_path / "long.wav", seconds=6.0, sample_rate=8_000)  # small in bytes, long in seconds
    r = _post(url, long)
    assert r.status_code == 413 and r.json()["limit"] == {"max_duration_s": LIMITS.max_duration_s}

    r = _post(url, write_corrupt(tmp_path / "broken.wav"))
    assert r.status_code == 422 and r.json()["error"].startswith("damaged wav file")
    assert str(tmp_path) not in r.json()["error"]  # no local path in an answer

    r = _post(url, write_wav(tmp_path / "quiet.wav", kind="silence"))
    assert r.status_code == 422 and "silent" in r.json()["error"]

    r = httpx.post(f"{url}/v1/predict?segment=words", content=b"RIFF", timeout=60)
    assert r.status_code == 422 and "segment" in r.json()["error"]

    assert httpx.get(f"{url}/health").json()["status"] == "ok"
    assert _post(url, write_wav(tmp_path / "after.wav", seconds=0.8)).status_code == 200


def test_sniff_format_names_containers_by_their_first_bytes(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(100, dtype=np.float32), 16_000, format="FLAC")
    assert sniff_format(buffer.getvalue()[:16]) == "flac"
    assert sniff_format(write_wav(tmp_path / "a.wav").read_bytes()[:16]) == "wav"
    assert sniff_format(b"\x1aE\xdf\xa3\x01\x00\x00\x00") == "webm"
    assert sniff_format(b"hello world, no audio") is None


def test_a_full_queue_is_refused_at_once_and_batches_keep_order():
    release = threading.Event()
    seen: list[list[int]] = []

    def run_batch(jobs):
        release.wait(10)
        seen.append(list(jobs))
        return [job * 10 for job in jobs]

    async def scenario():
        batcher = MicroBatcher(run_batch, BatchSettings(max_batch=4, max_wait_ms=20, max_queue=2))
        await batcher.start()
        first = asyncio.create_task(batcher.submit(1))
        await asyncio.sleep(0.1)  # the worker holds job 1 (blocked); two more fill the queue
        queued = [asyncio.create_task(batcher.submit(j)) for j in (2, 3)]
        await asyncio.sleep(0.05)
        with pytest.raises(Overloaded, match="max_queue"):
            await batcher.submit(4)
        release.set()
        results = [await first] + [await q for q in queued]
        await batcher.stop()
        return results

    assert asyncio.run(scenario()) == [10, 20, 30]
    assert seen == [[1], [2, 3]]


def test_hf_ser_serve_answers_health(served):
    model_dir = served[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = "import sys; from hf_ser.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "hf-ser serve did not answer within 120 s"
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(30)


_ONNX_SERVER_WITHOUT_TORCH = """
import json, sys
# What the Dockerfile's serve image lacks: importing any of these raises ImportError in this process.
for name in ("torch", "torchaudio", "transformers", "datasets", "accelerate", "huggingface_hub", "evaluate", "peft",
             "onnx", "yaml", "tqdm", "matplotlib", "sklearn", "scipy", "librosa", "psutil", "wandb", "tensorboard"):
    sys.modules[name] = None
import httpx
import hf_ser
from hf_ser.serve import ServeSettings, create_app, running_server
model = hf_ser.load(sys.argv[1], backend="onnx")
with running_server(create_app(model, source=sys.argv[1], settings=ServeSettings())) as url:
    with open(sys.argv[2], "rb") as f:
        answer = httpx.post(url + "/v1/predict", content=f.read(), timeout=60)
    described = httpx.get(url + "/v1/model").json()
print(json.dumps({"status": answer.status_code, "answer": answer.json(), "backend": described["backend"]}))
"""


def test_the_onnx_backend_serves_without_torch_or_transformers(served, tmp_path):
    """What the `serve` Docker target holds: the server on an exported graph, with torch, transformers and the other
    training dependencies unimportable."""
    import json

    from hf_ser.onnx_export import export_onnx

    export_onnx(served[0], tmp_path / "export")
    wav = write_wav(tmp_path / "clip.wav", seconds=1.0, freq_hz=250)
    done = subprocess.run([sys.executable, "-c", _ONNX_SERVER_WITHOUT_TORCH, str(tmp_path / "export"), str(wav)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["status"] == 200 and got["backend"] == "onnx"
    expected = served[1].predict(wav)
    assert got["answer"]["label"] == expected.label
    assert got["answer"]["probabilities"] == pytest.approx(expected.probabilities, abs=1e-4)


def test_the_dockerfile_serve_target_installs_no_torch():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "Dockerfile").read_text()
    stages = [line.split()[-1] for line in text.splitlines() if line.startswith("FROM ")]
    assert stages.index("serve") < stages.index("runtime") == len(stages) - 1  # `docker build .` stays the trainer
    serve_part = text[text.index("AS serve-builder"): text.index("AS builder")]
    installs = " ".join(line for line in serve_part.splitlines() if "pip install" in line)
    assert "onnxruntime" in installs and "fastapi" in installs and "--no-deps" in installs
    assert "torch" not in installs and "transformers" not in installs
