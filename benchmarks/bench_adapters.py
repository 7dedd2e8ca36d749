"""LoRA adapters vs full fine-tuning: trainable parameters, training-state memory and step time.

Both variants share the backbone shape, weights and inputs:

* full: every backbone layer trains (CNN / convs frozen, as in the real recipes);
* lora: the base is frozen, LoRA (r, alpha 2r) on the feed-forward layers of every layer (or the upper half).

Memory: on a GPU, ``torch.cuda.max_memory_allocated`` over a step. On a CPU (no allocator statistics) the
training state that LoRA changes is counted exactly instead: activations autograd saves for backward (bytes
through ``saved_tensors_hooks``), gradients, and AdamW's two moments (weights are the same for both).

Usage: python -m benchmarks.bench_adapters [--backbone shape:xlsr-53] [--layers 8] [--batch 2] [--seconds 3]
       [--r 8] [--adapter-layers all|upper_half] [--repeats 3] [--threads 2]
"""

import argparse
import statistics
import time

import torch

from hf_ser.models import build_model, parameter_counts


def _saved_activation_bytes(model, inputs) -> int:
    """Bytes autograd keeps for backward in one training forward (counted once per tensor storage)."""
    seen: dict[int, int] = {}

    def pack(tensor):
        seen[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = model(**inputs).loss
    loss.backward()
    model.zero_grad(set_to_none=True)
    return sum(seen.values())


def _measure(model, inputs, repeats: int, device: str) -> dict[str, float]:
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    steps = []
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for index in range(repeats + 1):  # the first round warms up and is dropped
        torch.manual_seed(index)
        start = time.perf_counter()
        model(**inputs).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        if index:
            steps.append(time.perf_counter() - start)
    trainable = [p for p in model.parameters() if p.requires_grad]
    state_bytes = sum(p.numel() * p.element_size() for p in trainable) * 3  # gradient + two AdamW moments
    result = {"step_s": statistics.median(steps), "grad_and_optimizer_mb": state_bytes / 2**20}
    result["saved_activations_mb"] = _saved_activation_bytes(model, inputs) / 2**20
    if device == "cuda":
        result["peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="shape:xlsr-53")
    parser.add_argument("--layers", type=int, default=8, help="transformer layers kept (int layer selection)")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--r", type=int, default=8)
    parser.add_argument("--adapter-layers", default="all", choices=["all", "upper_half"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    common = {
        "backbone": args.backbone,
        "id2label": {0: "neutral", 1: "happy", 2: "sad", 3: "angry"},
        "layers": args.layers,
        "mask_time_prob": 0.0,
        "seed": 0,
    }
    adapter = {"type": "lora", "r": args.r, "alpha": 2 * args.r, "target_modules": "ffn", "layers": args.adapter_layers}
    variants = {"full fine-tuning": build_model(**common), f"LoRA r={args.r} ({args.adapter_layers})": build_model(adapter=adapter, **common)}
    samples = int(args.seconds * 16_000)
    generator = torch.Generator().manual_seed(0)
    inputs = {
        "input_values": torch.randn(args.batch, samples, generator=generator).to(device),
        "attention_mask": torch.ones(args.batch, samples, dtype=torch.long, device=device),
        "labels": (torch.arange(args.batch) % 4).to(device),
    }
    print(
        f"{args.backbone}, {args.layers} layers; batch {args.batch} x {args.seconds:g} s; {device}"
        f"{'' if device == 'cuda' else f', {args.threads} threads'}; median of {args.repeats} steps"
    )
    results = {}
    for name, model in variants.items():
        model.to(device).train()
        counts = parameter_counts(model)
        results[name] = figures = _measure(model, inputs, args.repeats, device)
        peak = f"  peak {figures['peak_allocated_mb']:8.0f} MB" if "peak_allocated_mb" in figures else ""
        print(
            f"{name:>26}: trainable {counts['trainable'] / 1e6:7.2f} M of {counts['total'] / 1e6:7.1f} M "
            f"({100 * counts['trainable_fraction']:.2f} %)  grads+AdamW {figures['grad_and_optimizer_mb']:7.1f} MB  "
            f"saved activations {figures['saved_activations_mb']:7.1f} MB{peak}  step {figures['step_s']:.2f} s"
        )
        model.cpu()
    full, lora = results.values()
    print(
        f"ratio (full / LoRA): grads+AdamW x{full['grad_and_optimizer_mb'] / lora['grad_and_optimizer_mb']:.0f}, "
        f"saved activations x{full['saved_activations_mb'] / lora['saved_activations_mb']:.2f}, "
        f"step x{full['step_s'] / lora['step_s']:.2f}"
    )


if __name__ == "__main__":
    main()
