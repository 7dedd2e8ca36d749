"""`hf-ser bench infer --quick`: every comparison runs on a tiny model and prints its table, in seconds."""

from __future__ import annotations

import json

from benchmarks.infer import QUICK, format_infer_report
from hf_ser.cli import main as cli_main


def test_bench_infer_quick_reports_all_three_comparisons(tmp_path, capsys):
    assert cli_main(["bench", "infer", "--quick", "--json", "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report == json.loads((tmp_path / "r.json").read_text())

    pipeline = report["pipeline"]
    assert pipeline["clips"] == QUICK.clips and pipeline["audio_s"] > 0
    assert pipeline["labelled_by_predict"] == QUICK.clips  # the first demo clips are speech, none silent
    assert pipeline["identical_labels"] == QUICK.clips  # the same model in both forms labels every clip alike
    assert pipeline["predict"]["audio_s_per_s"] > 0 and pipeline["pipeline"]["audio_s_per_s"] > 0

    engines = report["engines"]
    assert engines["clips"] == QUICK.engine_clips
    assert engines["agreement_onnx_fp32_vs_torch"] == 1.0
    assert {"torch", "onnx_fp32", "onnx_int8"} <= set(engines)

    rows = report["server"]["rows"]
    assert {(r["clients"], r["mode"]) for r in rows} == {(c, m) for c in QUICK.concurrency for m in ("batching_on", "batching_off")}
    assert all(r["failed"] == 0 and r["requests"] >= r["clients"] and r["p95_ms"] >= r["p50_ms"] > 0 for r in rows)

    table = format_infer_report(report)
    assert "predict vs pipeline" in table and "onnx_int8" in table and "| 4 | on |" in table
