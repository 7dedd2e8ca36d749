"""The benchmark's printed table (the JSON report is ``runner.run_benchmark``'s dict)."""

from __future__ import annotations

import math


def _num(value: float | None, fmt: str = "{:.1f}") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return fmt.format(value)


def _ratio(ours: float | None, base: float | None, *, lower_is_better: bool = False) -> str:
    if not ours or not base:
        return ""
    return f"x{(base / ours if lower_is_better else ours / base):.2f}"


def format_report(report: dict) -> str:
    """The human-readable table of a benchmark report."""
    base, ours = report["paths"]["baseline"], report["paths"]["hf_ser"]
    grouped = report["paths"].get("baseline_group_by_length")
    data, model, m = report["data"], report["model"], report["machine"]
    lengths = data["length_s"]
    lines = [
        f"hf-ser bench, {report['date']}: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, "
        f"GPU: {m['gpu'] or 'none'}; torch {m['torch']}, transformers {m['transformers']}, {m['torch_threads']} threads",
        f"data: {data['clips_train']} train / {data['clips_test']} test clips ({data['audio_h_train'] * 60:.1f} min of "
        f"training audio), lengths median {lengths['median']} s, mean {lengths['mean']} s, p90 {lengths['p90']} s, "
        f"max {lengths['max']} s; stored at {', '.join(str(r) for r in data['native_rates'])} Hz; labels {', '.join(data['labels'])}",
        f"model: {model['name']} ({model['layers']} layers, {model['frozen_layers']} frozen, hidden {model['hidden']}, "
        f"FFN {model['ffn']}, {model['heads']} heads, CNN {model['cnn_channels']} channels), {model['precision']}; "
        f"batch {report['settings']['batch_size']}, {report['settings']['epochs']} epochs, same random init",
        "",
        f"{'':34}{'baseline':>12}{'hf_ser':>12}{'ratio':>9}",
    ]
    if grouped is not None:
        lines[-1] = f"{'':34}{'baseline':>12}{'hf_ser':>12}{'ratio':>9}{'grouped':>12}{'ratio':>9}"
    rows = [
        ("train audio-s / s", base["train_audio_s_per_s"], ours["train_audio_s_per_s"], "{:.2f}", False),
        ("train audio-s / CPU-s", base.get("train_audio_s_per_cpu_s"), ours.get("train_audio_s_per_cpu_s"), "{:.2f}", False),
        ("machine busy during training", base.get("machine_busy"), ours.get("machine_busy"), "{:.0%}", None),
        ("eval audio-s / s", base["eval_audio_s_per_s"], ours["eval_audio_s_per_s"], "{:.2f}", False),
        ("real / computed frames", base["real_frame_fraction"], ours["real_frame_fraction"], "{:.3f}", False),
        ("training wall time (s)", base["train_time_s"], ours["train_time_s"], "{:.1f}", True),
        ("  waiting for data (s)", base["data_wait_s"], ours["data_wait_s"], "{:.2f}", True),
        ("peak memory (MB)", base["peak_memory_mb"], ours["peak_memory_mb"], "{:.0f}", True),
        ("mean training loss", base["train_loss"], ours["train_loss"], "{:.3f}", None),
        ("final test WA", base["wa"], ours["wa"], "{:.3f}", None),
        ("final test UA", base["ua"], ours["ua"], "{:.3f}", None),
    ]
    keys = {"train audio-s / s": "train_audio_s_per_s", "train audio-s / CPU-s": "train_audio_s_per_cpu_s",
            "machine busy during training": "machine_busy", "real / computed frames": "real_frame_fraction",
            "training wall time (s)": "train_time_s", "peak memory (MB)": "peak_memory_mb", "final test UA": "ua"}
    for label, b, o, fmt, lower in rows:
        ratio = "" if lower is None else _ratio(o, b, lower_is_better=lower)
        line = f"{label:34}{_num(b, fmt):>12}{_num(o, fmt):>12}{ratio:>9}"
        if grouped is not None and label in keys:
            g = grouped.get(keys[label])
            line += f"{_num(g, fmt):>12}{'' if lower is None else _ratio(o, g, lower_is_better=lower):>9}"
        lines.append(line)
    if "mfu" in report:
        lines.append(f"{'MFU (performance.md formula)':34}{report['mfu']['baseline']:>12.1%}{report['mfu']['hf_ser']:>12.1%}")
    lines.append(f"hf_ser epoch times (s): {', '.join(f'{t:.1f}' for t in ours['epoch_times_s'])} (epoch 1 fills the cache)")
    lines.append(f"speedup (training throughput, hf_ser / baseline): x{report['speedup']:.2f}")
    for name, label in (("vs_baseline", "the example's defaults"), ("vs_group_by_length", "the example with --group_by_length")):
        sp = report.get("speedups", {}).get(name)
        if sp and sp["wall"]["median"] is not None:
            w, c = sp["wall"], sp["per_cpu_s"]
            cpu = f"x{c['median']:.2f} (x{c['min']:.2f}-x{c['max']:.2f})" if c["median"] is not None else "-"
            lines.append(
                f"  over {label}: wall x{w['median']:.2f} (x{w['min']:.2f}-x{w['max']:.2f}), per CPU-second {cpu}, "
                f"median of {len(w['rounds'])} interleaved round(s)"
            )
    for name, label in (("vs_baseline", "the example's defaults"), ("vs_group_by_length", "the example with --group_by_length")):
        guard = report.get("accuracy", {}).get(name)
        if guard:
            lines.append(accuracy_line(guard, label))
    if "machine_load" in report:
        ml = report["machine_load"]
        lines.append(f"machine load (1-min average): {ml['loadavg_1min_start']:.2f} at start, {ml['loadavg_1min_end']:.2f} at end")
    sim = report["real_frame_fraction_iemocap_size"]
    lines.append(
        f"real-frame fraction at IEMOCAP size ({sim['clips']} clips, same lengths, sampler only): "
        f"bucketed {sim['bucketed']:.3f}, random {sim['random']:.3f}"
    )
    lines += ["", "speed features, each on its own (ablation runs differ from hf_ser in that feature only):"]
    feats = report["features"]
    d = feats["decode_once"]
    lines.append(
        f"  decode + resample once: data time per epoch {d['baseline_data_s_per_epoch']:.2f} s (per-item decode, "
        f"baseline) -> {d['hf_ser_data_s_per_epoch']:.2f} s (memory-mapped store); one-time store build "
        f"{d['store_prepare_s_once']:.2f} s"
    )
    if "bucketing" in feats:
        b = feats["bucketing"]
        lines.append(
            f"  length buckets: real frames {b['real_frame_fraction'][0]:.3f} -> {b['real_frame_fraction'][1]:.3f}, "
            f"epoch-1 audio-s/s {b['epoch1_audio_s_per_s'][0]:.2f} -> {b['epoch1_audio_s_per_s'][1]:.2f} (x{b['speedup']:.2f})"
        )
    if "no_grad_cut" in feats:
        g = feats["no_grad_cut"]
        lines.append(
            f"  no autograd below the cut (vs requires_grad=False): audio-s/s {g['epoch1_audio_s_per_s'][0]:.2f} -> "
            f"{g['epoch1_audio_s_per_s'][1]:.2f} (x{g['speedup']:.2f})"
        )
    if "frozen_output_cache" in feats:
        c = feats["frozen_output_cache"]
        lines.append(
            f"  frozen-output cache, epochs after the first: audio-s/s {c['later_epoch_audio_s_per_s'][0]:.2f} -> "
            f"{c['later_epoch_audio_s_per_s'][1]:.2f} (x{c['speedup']:.2f}); {c.get('clips', 0)} clips, {c.get('mb', 0)} MB"
        )
    lines.append(f"  fused AdamW: {'on' if feats['fused_optimizer']['used'] else 'off (CUDA only)'}")
    lines.append(
        f"  loader: num_workers={feats['loader']['num_workers']}, torch threads {feats['loader']['torch_threads']}"
    )
    lines.append("  torch.compile: not used")
    return "\n".join(lines)


def accuracy_line(guard: dict, label: str) -> str:
    """One line of the accuracy guard: both sides' test metric over the seeds and the verdict."""
    def side(g: dict) -> str:
        return f"{g['mean']:.3f}" + (f" +- {g['sd']:.3f}" if g["sd"] is not None else "")

    metric, n = guard["metric"].upper(), guard["seeds"]
    line = f"  test {metric} over {n} seed(s): hf_ser {side(guard['sides']['hf_ser'])}, {label} {side(guard['sides'][guard['baseline']])}; difference {guard['difference']:+.3f}"
    if guard["within_seed_noise"] is None:
        return line + " (one seed: no noise estimate; use --repeats 3)"
    verdict = "within seed noise" if guard["within_seed_noise"] else "NOT within seed noise"
    return line + f" (paired 95% interval +-{guard['half_width_95']:.3f}): {verdict}"
