import argparse
import json

import pytest

from benchmarks.trainer.measure import PathResult
from benchmarks.trainer.report import accuracy_line, format_report
from benchmarks.trainer.runner import BenchSettings, accuracy_guard, run_benchmark, t_quantile_975
from hf_ser.commands import bench as cli


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    settings = BenchSettings(
        model="tiny", num_layers=4, num_frozen_layers=2, clips=10, epochs=2, batch_size=4,
        work_dir=str(tmp_path_factory.mktemp("bench")),
    )
    return run_benchmark(settings)


def test_both_paths_train_on_the_same_audio(report):
    base, ours = report["paths"]["baseline"], report["paths"]["hf_ser"]
    # Same clips, same epochs, no crop (clips are shorter than 20 s): the same real audio, resampler aside.
    assert ours["train_audio_s"] == pytest.approx(base["train_audio_s"], rel=1e-3)
    assert ours["eval_audio_s"] == pytest.approx(base["eval_audio_s"], rel=1e-3)
    assert report["data"]["clips_train"] + report["data"]["clips_test"] == 10
    assert 48_000 in report["data"]["native_rates"]  # the baseline has to resample


def test_report_has_the_promised_figures(report):
    ours = report["paths"]["hf_ser"]
    assert report["speedup"] == pytest.approx(
        ours["train_audio_s_per_s"] / report["paths"]["baseline"]["train_audio_s_per_s"]
    )
    assert report["real_frame_fraction"] == ours["real_frame_fraction"]
    for path in report["paths"].values():
        assert 0 < path["real_frame_fraction"] <= 1
        assert path["peak_memory_mb"] > 0 and path["train_time_s"] > 0
        assert 0 <= path["wa"] <= 1 and 0 <= path["ua"] <= 1
    assert len(ours["epoch_times_s"]) == 2
    # Epoch 2 is served from the cache: every training clip once.
    assert ours["notes"]["cache"]["hits"] == report["data"]["clips_train"]
    assert set(report["ablations"]) == {"no_cache", "no_bucketing", "naive_freezing"}
    assert report["ablations"]["no_bucketing"]["real_frame_fraction"] <= ours["real_frame_fraction"] + 1e-9
    sim = report["real_frame_fraction_iemocap_size"]
    assert sim["bucketed"] > sim["random"]
    json.dumps(report)  # serialisable as one JSON object


def test_table_prints_every_section(report):
    text = format_report(report)
    for needle in ("train audio-s / s", "real / computed frames", "waiting for data", "peak memory", "final test UA",
                   "speedup", "length buckets", "no autograd below the cut", "frozen-output cache"):
        assert needle in text


def test_cli_arguments_map_to_settings():
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--json", "--layers", "6", "--frozen-layers", "3", "--no-ablations"])
    assert args.json and args.layers == 6 and args.frozen_layers == 3 and args.no_ablations


def test_unknown_model_and_ablation_fail_listing_valid_names():
    with pytest.raises(KeyError, match="xlsr-cpu"):
        run_benchmark(BenchSettings(model="nope"))
    with pytest.raises(KeyError, match="no_cache"):
        BenchSettings(ablations=("typo",)).resolved()


def test_json_output_is_one_clean_json_object(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([
        "--json", "--model", "tiny", "--layers", "2", "--frozen-layers", "1", "--clips", "6", "--epochs", "1",
        "--batch-size", "3", "--no-ablations", "--work-dir", str(tmp_path), "--out", str(tmp_path / "r.json"),
        "--repeats", "2",
    ])
    assert cli.run(args) == 0
    printed = json.loads(capsys.readouterr().out)  # nothing else on stdout (the Trainer prints by default)
    assert printed == json.loads((tmp_path / "r.json").read_text())
    assert printed["ablations"] == {} and printed["speedup"] > 0
    # Two interleaved rounds of three sides; speed-ups against both baselines, wall and per CPU-second.
    assert len(printed["rounds"]) == 2
    assert set(printed["rounds"][0]) == {"seed", "baseline", "baseline_group_by_length", "hf_ser"}
    # Each round trains with its own seed; the accuracy guard compares the sides over those seeds.
    assert [r["seed"] for r in printed["rounds"]] == [0, 1]
    for against, side in (("vs_baseline", "baseline"), ("vs_group_by_length", "baseline_group_by_length")):
        guard = printed["accuracy"][against]
        assert guard["seeds"] == 2 and guard["baseline"] == side
        assert guard["sides"]["hf_ser"]["rounds"] == [r["hf_ser"]["ua"] for r in printed["rounds"]]
        assert guard["sides"][side]["rounds"] == [r[side]["ua"] for r in printed["rounds"]]
        assert isinstance(guard["within_seed_noise"], bool) and guard["half_width_95"] >= 0
    for against in ("vs_baseline", "vs_group_by_length"):
        for kind in ("wall", "per_cpu_s"):
            sp = printed["speedups"][against][kind]
            assert len(sp["rounds"]) == 2 and sp["min"] <= sp["median"] <= sp["max"]
    assert printed["speedup"] == printed["speedups"]["vs_baseline"]["wall"]["median"]
    assert printed["paths"]["hf_ser"]["train_audio_s_per_cpu_s"] > 0 and 0 <= printed["paths"]["hf_ser"]["machine_busy"] <= 1
    assert {"loadavg_1min_start", "loadavg_1min_end"} <= set(printed["machine_load"])


def _rounds(ours: list[float], base: list[float]) -> list[dict[str, PathResult]]:
    rounds = []
    for o, b in zip(ours, base):
        h, g = PathResult(name="hf_ser"), PathResult(name="baseline")
        h.ua, g.ua = o, b
        rounds.append({"hf_ser": h, "baseline": g})
    return rounds


def test_accuracy_guard_is_a_paired_t_interval_over_seeds():
    # A constant gap has no noise: any non-zero gap is outside it.
    steady = accuracy_guard(_rounds([0.40, 0.50, 0.60], [0.45, 0.55, 0.65]), "baseline")
    assert steady["difference"] == pytest.approx(-0.05) and steady["half_width_95"] == pytest.approx(0.0)
    assert steady["within_seed_noise"] is False
    # Differences -0.1, +0.1, 0.0: mean 0, sd 0.1, 95% half-width t(2) * 0.1 / sqrt(3).
    noisy = accuracy_guard(_rounds([0.30, 0.60, 0.50], [0.40, 0.50, 0.50]), "baseline")
    assert noisy["difference"] == pytest.approx(0.0, abs=1e-12)
    assert noisy["half_width_95"] == pytest.approx(4.303 * 0.1 / 3**0.5)
    assert noisy["within_seed_noise"] is True
    assert noisy["sides"]["baseline"]["mean"] == pytest.approx(1.4 / 3)
    # One seed: no estimate of the noise, no verdict.
    assert accuracy_guard(_rounds([0.3], [0.5]), "baseline")["within_seed_noise"] is None
    text = accuracy_line(noisy, "the example's defaults")
    assert "within seed noise" in text and "3 seed(s)" in text


def test_t_quantiles_from_the_table():
    assert t_quantile_975(2) == pytest.approx(4.303)
    assert t_quantile_975(12) == pytest.approx(2.228)  # between tabulated dfs: the smaller df, a wider interval
    assert t_quantile_975(100) == pytest.approx(1.96)
