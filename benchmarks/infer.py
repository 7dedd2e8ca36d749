"""``hf-ser bench infer``: inference speed on one model and one set of clips, three comparisons.

1. ``hf_ser.load(...).predict`` on a folder of clips against the transformers ``pipeline("audio-classification")``
   called clip by clip as its documentation shows (on the stock transformers form of the same model, from
   ``hf-ser export transformers``; audio decoded by soundfile, since the pipeline calls ffmpeg for file names):
   audio-seconds per second and label agreement.
2. ONNX int8 against ONNX fp32 against PyTorch (``hf-ser export onnx --quantize int8``), all through
   ``hf_ser.load(...).predict``: throughput and label agreement.
3. ``hf-ser serve`` under a bounded loopback load: 1, 8, 32 concurrent clients posting 3-s clips, p50 / p95
   latency and audio-seconds per second, micro-batching on (``max_batch``) against off (``max_batch=1``).

Every comparison runs its sides in interleaved rounds and reports medians. Models are random-initialised from
``benchmarks.trainer.models.BENCH_MODELS`` shapes cut to 8 layers: the engine comparison on the exact XLS-R-300M
width (``engine_model``), the pipeline and server comparisons on ``xlsr-cpu`` (the same architecture narrowed for a
2-core CPU, as the training benchmark), whose 200 clips and loaded server fit a shared 2-core machine. The clips are
the bundled demo speech (cycled to the count asked). ``--quick`` runs everything on the tiny shape and a handful
of clips in seconds (the test).
It lives in the checkout's ``benchmarks`` package, which only ``hf-ser bench`` loads: nothing here is on the product path.
"""

from __future__ import annotations

import datetime
import statistics
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from hf_ser.audio import SAMPLE_RATE, load_audio

LABELS = ["anger", "calm", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]


@dataclass(frozen=True)
class InferBenchSettings:
    """What ``hf-ser bench infer`` measures (``QUICK``: the seconds-long version the test runs)."""

    model: str = "xlsr-cpu"
    engine_model: str = "xls-r-300m"
    layers: int = 8
    clips: int = 200
    engine_clips: int = 12
    server_clip_s: float = 3.0
    concurrency: tuple[int, ...] = (1, 8, 32)
    server_requests: int = 16
    rounds: int = 3
    batch_size: int = 8
    max_batch: int = 8
    max_wait_ms: float = 10.0
    seed: int = 0
    work_dir: str | None = None
    parts: tuple[str, ...] = ("pipeline", "engines", "server")


QUICK = InferBenchSettings(
    model="tiny", engine_model="tiny", layers=2, clips=4, engine_clips=3, concurrency=(1, 4), server_requests=4, rounds=1, max_batch=4
)


def run_infer_bench(settings: InferBenchSettings) -> dict[str, Any]:
    """Build the model and clips, run the asked ``parts``, return the report (``format_infer_report`` prints it)."""
    import logging

    from benchmarks.trainer.runner import machine

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the table
    with tempfile.TemporaryDirectory(prefix="hf-ser-bench-infer-") as scratch:
        work = Path(settings.work_dir or scratch)
        model_dir = _model(work, settings.model, settings)
        clips = _clips(work / "clips", settings.clips)
        report: dict[str, Any] = {
            "date": datetime.date.today().isoformat(),
            "machine": machine(),
            "settings": asdict(settings),
            "model": {"name": settings.model, "engine_model": settings.engine_model, "layers": settings.layers,
                      "labels": len(LABELS)},
        }
        if "pipeline" in settings.parts:
            report["pipeline"] = bench_pipeline(model_dir, work / "stock", clips, settings)
        if "engines" in settings.parts:
            engine_dir = model_dir if settings.engine_model == settings.model else _model(work, settings.engine_model, settings)
            report["engines"] = bench_engines(engine_dir, work / "onnx", clips[: settings.engine_clips], settings)
        if "server" in settings.parts:
            report["server"] = bench_server(model_dir, settings)
    return report


# ------------------------------------------------------------------------------------------------ inputs
def _model(work: Path, name: str, settings: InferBenchSettings) -> Path:
    """A saved hf_ser model (mean pooling, linear head) on the random ``name`` backbone of ``settings.layers``."""
    from benchmarks.trainer.models import bench_config, write_init
    from hf_ser.models import build_feature_extractor, build_model

    model_dir = work / f"model-{name}-{settings.layers}"
    if not (model_dir / "config.json").is_file():
        init = write_init(bench_config(name, num_layers=settings.layers), work / f"init-{name}-{settings.layers}", seed=settings.seed)
        model = build_model(backbone=str(init), id2label=dict(enumerate(LABELS)), seed=settings.seed)
        model.save_pretrained(model_dir)
        build_feature_extractor().save_pretrained(model_dir)
    return model_dir


def _clips(folder: Path, count: int) -> list[Path]:
    """``count`` 16 kHz WAVs of the bundled demo speech (cycled when it has fewer files)."""
    from hf_ser.demo_data import demo_root

    sources = sorted(p for corpus in ("ravdess", "crema_d") for p in demo_root(corpus).rglob("*.wav"))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        path = folder / f"clip_{i:04d}.wav"
        if not path.is_file():
            wave, _ = load_audio(sources[i % len(sources)])
            sf.write(path, wave, SAMPLE_RATE, subtype="PCM_16")
        out.append(path)
    return out


def _audio_s(paths: list[Path]) -> float:
    return float(sum(sf.info(str(p)).duration for p in paths))


def _median_rate(audio_s: float, times: list[float]) -> dict[str, float]:
    median = statistics.median(times)
    return {"median_s": round(median, 3), "min_s": round(min(times), 3), "max_s": round(max(times), 3),
            "audio_s_per_s": round(audio_s / median, 2)}


# ------------------------------------------------------------------------------------ 1. pipeline vs predict
def bench_pipeline(model_dir: Path, stock_dir: Path, clips: list[Path], settings: InferBenchSettings) -> dict[str, Any]:
    """``predict`` on the folder against the pipeline clip by clip, interleaved rounds."""
    from transformers import pipeline

    import hf_ser
    from hf_ser.predict import collect_audio_paths
    from hf_ser.stock_export import export_transformers

    if not (stock_dir / "config.json").is_file():
        export_transformers(model_dir, stock_dir)
    classifier = pipeline("audio-classification", model=str(stock_dir), device="cpu")
    model = hf_ser.load(model_dir, device="cpu", batch_size=settings.batch_size)

    def by_pipeline() -> list[str]:
        labels = []
        for path in clips:  # as the pipeline's documentation shows: one clip per call
            wave, sr = sf.read(str(path), dtype="float32")
            labels.append(classifier({"raw": wave, "sampling_rate": sr}, top_k=1)[0]["label"])
        return labels

    def by_predict() -> list[str]:  # as `hf-ser predict FOLDER`: the folder's audio files, in sorted order
        return [p.label for p in model.predict(collect_audio_paths([clips[0].parent]))]

    times: dict[str, list[float]] = {"pipeline": [], "predict": []}
    labels: dict[str, list[str]] = {}
    for _ in range(settings.rounds):
        for name, run in (("pipeline", by_pipeline), ("predict", by_predict)):
            start = time.perf_counter()
            got = run()
            times[name].append(time.perf_counter() - start)
            labels.setdefault(name, got)
    audio = _audio_s(clips)
    out = {name: _median_rate(audio, t) for name, t in times.items()}
    # predict reports an unusable clip (the demo's silent CREMA-D file) instead of labelling it; the pipeline
    # labels whatever it is given. Labels are compared on the clips predict labels.
    labelled = [(a, b) for a, b in zip(labels["pipeline"], labels["predict"]) if b is not None]
    same = sum(a == b for a, b in labelled)
    return {
        "clips": len(clips), "audio_s": round(audio, 1), **out,
        "speedup": round(out["predict"]["audio_s_per_s"] / out["pipeline"]["audio_s_per_s"], 2),
        "labelled_by_predict": len(labelled), "identical_labels": same,
        "label_agreement": round(same / max(1, len(labelled)), 4),
    }


# ------------------------------------------------------------------------------- 2. ONNX int8 / fp32 / torch
def bench_engines(model_dir: Path, onnx_dir: Path, clips: list[Path], settings: InferBenchSettings) -> dict[str, Any]:
    """PyTorch, ONNX fp32 and ONNX int8 through ``hf_ser.load(...).predict`` on the same clips."""
    import torch

    import hf_ser
    from hf_ser.onnx_export import export_onnx, onnx_target, quantize_int8

    graph = onnx_target(onnx_dir)
    if not graph.is_file():
        export_onnx(model_dir, graph)
    int8 = graph.with_name("model.int8.onnx")
    if not int8.is_file():
        int8 = quantize_int8(graph)
    models = {
        "torch": hf_ser.load(model_dir, device="cpu", batch_size=settings.batch_size),
        "onnx_fp32": hf_ser.load(graph, backend="onnx", batch_size=settings.batch_size),
        "onnx_int8": hf_ser.load(int8, backend="onnx", batch_size=settings.batch_size),
    }
    times: dict[str, list[float]] = {name: [] for name in models}
    labels: dict[str, list[str]] = {}
    for _ in range(settings.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            got = [p.label for p in model.predict(clips)]
            times[name].append(time.perf_counter() - start)
            labels.setdefault(name, got)
    audio = _audio_s(clips)
    out: dict[str, Any] = {"clips": len(clips), "audio_s": round(audio, 1), "torch_threads": torch.get_num_threads(),
                           "onnxruntime_threads": 1}
    out.update({name: _median_rate(audio, t) for name, t in times.items()})
    for a, b in (("onnx_int8", "onnx_fp32"), ("onnx_fp32", "torch"), ("onnx_int8", "torch")):
        out[f"agreement_{a}_vs_{b}"] = round(sum(x == y for x, y in zip(labels[a], labels[b])) / len(clips), 4)
    out["int8_speedup_vs_fp32"] = round(out["onnx_int8"]["audio_s_per_s"] / out["onnx_fp32"]["audio_s_per_s"], 2)
    return out


# ------------------------------------------------------------------------------------------- 3. the server
def _server_clip(seconds: float) -> bytes:
    """One WAV of ``seconds`` of demo speech (clips joined end to end), as uploaded bytes."""
    import io

    from hf_ser.demo_data import demo_root

    n = int(seconds * SAMPLE_RATE)
    parts, held = [], 0
    for path in sorted(demo_root("ravdess").rglob("*.wav")):
        wave, _ = load_audio(path)
        parts.append(wave)
        held += len(wave)
        if held >= n:
            break
    buffer = io.BytesIO()
    sf.write(buffer, np.concatenate(parts)[:n], SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _load(url: str, body: bytes, clients: int, requests: int) -> tuple[list[float], float, int]:
    """``clients`` threads share ``requests`` POSTs of ``body``; returns latencies (s), wall time, failures."""
    import httpx

    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    share = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]

    def client(n: int) -> None:
        with httpx.Client(timeout=600) as http:
            for _ in range(n):
                start = time.perf_counter()
                response = http.post(f"{url}/v1/predict", content=body)
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        failures[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in share if n]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - start, failures[0]


def bench_server(model_dir: Path, settings: InferBenchSettings) -> dict[str, Any]:
    """Both servers (micro-batching on / off) up at once on 127.0.0.1; each load level runs on each, interleaved."""
    import contextlib

    import hf_ser
    from hf_ser.serve import BatchSettings, ServeSettings, create_app, running_server

    model = hf_ser.load(model_dir, device="cpu", batch_size=settings.batch_size)
    body = _server_clip(settings.server_clip_s)
    queue = max(settings.concurrency) * 2
    modes = {
        "batching_on": BatchSettings(max_batch=settings.max_batch, max_wait_ms=settings.max_wait_ms, max_queue=queue),
        "batching_off": BatchSettings(max_batch=1, max_wait_ms=0, max_queue=queue),
    }
    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        urls = {
            name: stack.enter_context(running_server(create_app(model, source=model_dir, settings=ServeSettings(batching=b))))
            for name, b in modes.items()
        }
        for clients in settings.concurrency:
            runs: dict[str, list[tuple[list[float], float, int]]] = {name: [] for name in modes}
            for _ in range(settings.rounds):
                for name, url in urls.items():
                    runs[name].append(_load(url, body, clients, max(settings.server_requests, clients)))
            for name, results in runs.items():
                walls = [wall for _, wall, _ in results]
                median_round = results[walls.index(statistics.median_low(walls))]
                latencies, wall, failed = median_round
                rows.append({
                    "clients": clients, "mode": name, "requests": len(latencies) + failed, "failed": failed,
                    "p50_ms": round(1000 * float(np.percentile(latencies, 50)), 1) if latencies else None,
                    "p95_ms": round(1000 * float(np.percentile(latencies, 95)), 1) if latencies else None,
                    "audio_s_per_s": round(len(latencies) * settings.server_clip_s / wall, 2),
                    "wall_s": round(wall, 2),
                })
    return {"clip_s": settings.server_clip_s, "max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms,
            "rows": rows}


# -------------------------------------------------------------------------------------------- the table
def format_infer_report(report: dict[str, Any]) -> str:
    """The printed form of ``run_infer_bench``'s report."""
    m, s = report["machine"], report["settings"]
    lines = [
        f"hf-ser bench infer, {report['date']}: {m['cpu']}, {m['cores']} cores, torch {m['torch']}, "
        f"transformers {m['transformers']}, {m['torch_threads']} torch threads; models (random init, {s['layers']} "
        f"layers): {s['model']} (pipeline, server), {s['engine_model']} (engines); {s['rounds']} interleaved rounds, medians",
    ]
    if "pipeline" in report:
        p = report["pipeline"]
        lines += [
            "",
            f"predict vs pipeline ({p['clips']} demo clips, {p['audio_s']} s of audio)",
            "| path | median s | audio-s/s |",
            "|---|---:|---:|",
            f"| transformers pipeline, clip by clip | {p['pipeline']['median_s']} | {p['pipeline']['audio_s_per_s']} |",
            f"| hf_ser.load(...).predict(folder) | {p['predict']['median_s']} | {p['predict']['audio_s_per_s']} |",
            f"speed-up x{p['speedup']}; identical labels on {p['identical_labels']} of the {p['labelled_by_predict']} clips "
            f"predict labels ({p['clips'] - p['labelled_by_predict']} reported unusable, e.g. silent)",
        ]
    if "engines" in report:
        e = report["engines"]
        lines += [
            "",
            f"engines ({e['clips']} clips, {e['audio_s']} s of audio; torch {e['torch_threads']} threads, "
            f"onnxruntime {e['onnxruntime_threads']})",
            "| engine | median s | audio-s/s |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {e[name]['median_s']} | {e[name]['audio_s_per_s']} |" for name in ("torch", "onnx_fp32", "onnx_int8")]
        lines.append(
            f"int8 x{e['int8_speedup_vs_fp32']} vs fp32; label agreement int8/fp32 {100 * e['agreement_onnx_int8_vs_onnx_fp32']:.1f} %, "
            f"fp32/torch {100 * e['agreement_onnx_fp32_vs_torch']:.1f} %, int8/torch {100 * e['agreement_onnx_int8_vs_torch']:.1f} %"
        )
    if "server" in report:
        v = report["server"]
        lines += [
            "",
            f"server on 127.0.0.1 ({v['clip_s']:g}-s clips; batching on: max_batch {v['max_batch']}, max_wait_ms "
            f"{v['max_wait_ms']:g}; off: max_batch 1)",
            "| clients | micro-batching | requests | failed | p50 ms | p95 ms | audio-s/s |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['clients']} | {'on' if r['mode'] == 'batching_on' else 'off'} | {r['requests']} | {r['failed']} | "
            f"{r['p50_ms']} | {r['p95_ms']} | {r['audio_s_per_s']} |"
            for r in v["rows"]
        ]
    return "\n".join(lines)
