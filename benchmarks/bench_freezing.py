"""Time forward + backward with half the layers frozen: true no-grad freezing vs requires_grad=False alone.

Model: XLSR-53 architecture (shape:xlsr-53: layer-norm CNN, hidden 1024, FFN 4096, 16 heads, pos conv 128/16)
cut to 8 transformer layers so it runs on a CPU; 4 layers frozen. Both variants share weights and inputs:

* no-grad ("ours"): num_frozen_layers=4, everything below the cut under torch.no_grad().
* requires_grad=False ("usual"): CNN frozen, layers 0-3 requires_grad=False; feature projection, positional conv
  and the SpecAugment embedding stay trainable, so autograd still runs through the frozen layers.

Usage: python -m benchmarks.bench_freezing [--layers 8] [--batch 2] [--seconds 3] [--repeats 3] [--threads 2]
"""

import argparse
import statistics
import time

import torch

from hf_ser.models import build_model


def _time_steps(model, input_values, attention_mask, labels, repeats: int) -> dict[str, float]:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    forward_s, backward_s, step_s = [], [], []
    for index in range(repeats + 1):  # the first round warms up allocators and is dropped
        torch.manual_seed(index)
        start = time.perf_counter()
        loss = model(input_values, attention_mask=attention_mask, labels=labels).loss
        after_forward = time.perf_counter()
        loss.backward()
        after_backward = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        end = time.perf_counter()
        if index:
            forward_s.append(after_forward - start)
            backward_s.append(after_backward - after_forward)
            step_s.append(end - start)
    return {
        "forward_s": statistics.median(forward_s),
        "backward_s": statistics.median(backward_s),
        "step_s": statistics.median(step_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    frozen = args.layers // 2
    common = {
        "backbone": "shape:xlsr-53",
        "id2label": {0: "neutral", 1: "happy", 2: "sad", 3: "angry"},
        "layers": args.layers,
        "mask_time_prob": 0.05,
        "seed": 0,
    }
    ours = build_model(num_frozen_layers=frozen, **common).train()
    usual = build_model(num_frozen_layers=0, **common)
    usual.load_state_dict(ours.state_dict())
    for layer in usual.backbone.encoder.layers[:frozen]:
        layer.requires_grad_(False)
    usual.train()

    samples = int(args.seconds * 16_000)
    generator = torch.Generator().manual_seed(0)
    input_values = torch.randn(args.batch, samples, generator=generator)
    attention_mask = torch.ones(args.batch, samples, dtype=torch.long)
    labels = torch.arange(args.batch) % 4

    print(
        f"XLSR-53 shape, {args.layers} layers (hidden 1024), {frozen} frozen; batch {args.batch} x "
        f"{args.seconds:g} s; {args.threads} threads; median of {args.repeats} steps"
    )
    results = {}
    for name, model in (("requires_grad=False", usual), ("no-grad (ours)", ours)):
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        results[name] = _time_steps(model, input_values, attention_mask, labels, args.repeats)
        timing = results[name]
        print(
            f"{name:>20}: trainable {trainable / 1e6:6.1f} M  forward {timing['forward_s']:.2f} s  "
            f"backward {timing['backward_s']:.2f} s  step {timing['step_s']:.2f} s"
        )
    slow, fast = results["requires_grad=False"], results["no-grad (ours)"]
    print(
        f"ratio (requires_grad=False / no-grad): backward x{slow['backward_s'] / fast['backward_s']:.2f}, "
        f"step x{slow['step_s'] / fast['step_s']:.2f}"
    )


if __name__ == "__main__":
    main()
