"""The HTTP service of ``hf-ser serve``: FastAPI routes over ``hf_ser.load(...)``, micro-batched.

- ``POST /v1/predict``: the audio as multipart field ``file`` or as the raw request body; ``?top_k=3`` adds the
  most probable classes, ``?segment=vad`` classifies the speech segments (``EmotionModel.segments``), ``?text=...``
  gives a speech + text model the upload's transcript, which wins over the server's ASR (``hf-ser serve --asr``:
  uploads sent without one get the recogniser's; the answer's ``modality``, ``text_source`` and ``transcript``
  say what was used). The answer
  is ``Prediction.to_dict`` (what ``hf_ser.load(...).predict`` / ``.segments`` return), with ``source`` the
  uploaded file name (``"upload"`` for a raw body).
- ``GET /v1/model``: labels, dims, modality, the ASR it runs, backbone, window, backend, limits and the training
  protocol in brief.
- ``GET /health``; ``GET /``: a page to choose a file or record from the microphone (``page.html``, no CDN).

Bad input never reaches the model: 413 (bytes or duration over the limit), 415 (not audio, or a format soundfile
cannot decode), 422 (a damaged, silent or too short file), 503 (queue full); each answer is JSON naming the reason
and the limit (``hf_ser.serve.uploads``).
"""

# No `from __future__ import annotations` here: FastAPI reads the route functions' annotations (Request, Query)
# at run time, and those names are imported inside create_app (so importing this module does not import FastAPI).
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hf_ser.audio import SAMPLE_RATE
from hf_ser.inference.results import with_min_confidence
from hf_ser.inference.vad import VadMissingError
from hf_ser.modality import SPEECH_TEXT
from hf_ser.serve.batching import BatchSettings, MicroBatcher, Overloaded
from hf_ser.serve.uploads import UploadLimits, UploadRejected, decode_upload

logger = logging.getLogger(__name__)

SEGMENT_MODES = ("none", "vad")
# Room for multipart boundaries and headers around a file of max_bytes.
MULTIPART_SLACK = 64 * 1024


@dataclass(frozen=True)
class ServeSettings:
    """Limits and batching of one server."""

    limits: UploadLimits = field(default_factory=UploadLimits)
    batching: BatchSettings = field(default_factory=BatchSettings)


@dataclass
class Job:
    """One request's work for the model worker."""

    wave: Any
    source: str
    segment: str = "none"
    text: str | None = None  # the transcript, for a speech + text model


def model_summary(model, source: str | Path) -> dict[str, Any]:
    """``GET /v1/model``'s facts about the loaded model: nothing local (no paths), nothing per clip."""
    backbone = None
    config_path = Path(source) / "config.json"
    if config_path.is_file():
        config = json.loads(config_path.read_text())
        inner = config.get("backbone_config") or config
        backbone = {k: inner.get(k) for k in ("model_type", "num_hidden_layers", "hidden_size")}
    protocol = None
    with contextlib.suppress(Exception):  # a model from elsewhere has no run directory around it
        from hf_ser.run_dir import read_run_protocol

        found = read_run_protocol(source)
        protocol = {k: found.get(k) for k in ("source_corpora", "folds", "model_label_set")}
    return {
        "labels": model.labels,
        "dims": model.dims,
        "task": model.settings.task,
        "modality": model.settings.modality,
        "asr": model.asr,  # the recogniser run for uploads without a transcript (None: speech alone)
        # The temperature the probabilities are divided by (1.0: raw; the server was started with --no-calibration
        # or the model was trained without train.temperature_scaling).
        "temperature": model.temperature,
        "backend": model.backend.name,
        "backbone": backbone,
        "window_s": model.window_s,
        "sampling_rate": SAMPLE_RATE,
        "protocol": protocol,
    }


def run_jobs(model, jobs: Sequence[Job]) -> list[Any]:
    """The worker's batch: every plain prediction in one ``model.predict`` call (their windows share forward
    passes), each ``segment=vad`` job through ``model.segments``."""
    results: list[Any] = [None] * len(jobs)
    plain = [i for i, job in enumerate(jobs) if job.segment == "none"]
    if plain:
        texts = [jobs[i].text for i in plain] if any(jobs[i].text for i in plain) else None
        for i, prediction in zip(plain, model.predict([(jobs[i].wave, SAMPLE_RATE) for i in plain], text=texts)):
            results[i] = prediction
    for i, job in enumerate(jobs):
        if job.segment == "vad":
            results[i] = model.segments((job.wave, SAMPLE_RATE))
    for result, job in zip(results, jobs):
        result.source = job.source
    return results


def create_app(model, *, source: str | Path = "", settings: ServeSettings | None = None):
    """The FastAPI application serving ``model`` (an ``hf_ser.load(...)`` result)."""
    from fastapi import FastAPI, Query, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.datastructures import UploadFile

    settings = settings or ServeSettings()
    limits = settings.limits
    batcher = MicroBatcher(lambda jobs: run_jobs(model, jobs), settings.batching)
    summary = model_summary(model, source)
    summary["limits"] = asdict(limits)
    summary["batching"] = asdict(settings.batching)
    page = resources.files("hf_ser.serve").joinpath("page.html").read_text(encoding="utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(title="hf_ser", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.batcher = batcher

    @app.exception_handler(UploadRejected)
    async def _rejected(_request, error: UploadRejected):
        return JSONResponse(error.body(), status_code=error.status)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "waiting": batcher.waiting, "max_queue": settings.batching.max_queue}

    @app.get("/v1/model")
    async def describe() -> dict[str, Any]:
        return summary

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page

    async def read_body(request: Request) -> bytes:
        """The request body, refused with 413 as soon as it passes the byte limit (declared or streamed)."""
        ceiling = limits.max_bytes + MULTIPART_SLACK
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > ceiling:
            raise limits.too_many_bytes(int(declared))
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > ceiling:
                raise limits.too_many_bytes(size)
            chunks.append(chunk)
        return b"".join(chunks)

    async def upload_of(request: Request) -> tuple[bytes, str]:
        body = await read_body(request)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return body, "upload"

        async def replay() -> dict[str, Any]:  # the form parser reads the body already taken from the socket
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form(max_files=1, max_fields=8, max_part_size=limits.max_bytes)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise UploadRejected(422, "multipart upload without a file field named 'file'")
        return await upload.read(), Path(upload.filename or "upload").name

    @app.post("/v1/predict")
    async def predict(
        request: Request,
        segment: str = Query("none", description="'vad': classify speech segments"),
        top_k: int | None = Query(None, ge=1),
        min_confidence: float | None = Query(None, gt=0, le=1, description="label 'abstain' below this probability"),
        text: str | None = Query(None, description="the transcript (speech + text models)"),
    ):
        if segment not in SEGMENT_MODES:
            raise UploadRejected(422, f"segment={segment!r} is not one of {list(SEGMENT_MODES)}")
        if text and model.settings.modality != SPEECH_TEXT:
            raise UploadRejected(422, f"text=...: this model reads {model.settings.modality} only; send no transcript")
        if text and segment != "none":
            raise UploadRejected(422, "text=... labels the whole upload; it does not combine with segment=vad")
        data, name = await upload_of(request)
        wave = decode_upload(data, limits)
        try:
            result = await batcher.submit(Job(wave, name, segment, text or None))
        except Overloaded as e:
            return JSONResponse({"error": f"server busy: {e}", "status": 503,
                                 "limit": {"max_queue": settings.batching.max_queue}}, status_code=503)
        except VadMissingError as e:  # this server's install lacks silero-vad: not the client's fault
            return JSONResponse({"error": str(e), "status": 501}, status_code=501)
        if result.error:
            raise UploadRejected(422, f"{name}: {result.error}")
        return with_min_confidence(result, min_confidence).to_dict(top_k)

    return app


@contextlib.contextmanager
def running_server(app, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 60.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread of this process; yields the base URL (``port=0``: a free port).

    For tests and benchmarks: the server stops when the block ends.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)
        sock.close()
