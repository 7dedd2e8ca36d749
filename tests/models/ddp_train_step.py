"""Two optimizer steps of a tiny model with frozen layers under DDP; run by test_ddp.py under torchrun.

Writes `<out_dir>/rank<k>.json` with the loss and a parameter checksum, so the test can check that both ranks ran
and ended with identical weights (DDP averaged the gradients).
"""

import json
import sys
from pathlib import Path

import torch
from accelerate import Accelerator

from hf_ser.models import build_model


def main(out_dir: str) -> None:
    accelerator = Accelerator(cpu=True)
    model = build_model(
        backbone="shape:tiny",
        id2label={0: "neutral", 1: "angry"},
        num_frozen_layers=2,
        layers=3,
        pooling="attention",
        mask_time_prob=0.2,
        seed=0,
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model, optimizer = accelerator.prepare(model, optimizer)
    generator = torch.Generator().manual_seed(100 + accelerator.process_index)  # different data per rank
    for _ in range(2):
        input_values = torch.randn(2, 8_000, generator=generator)
        attention_mask = torch.ones(2, 8_000, dtype=torch.long)
        attention_mask[1, 5_000:] = 0
        out = model(input_values * attention_mask, attention_mask=attention_mask, labels=torch.tensor([0, 1]))
        accelerator.backward(out.loss)
        optimizer.step()
        optimizer.zero_grad()
    checksum = sum(float(p.detach().double().sum()) for p in accelerator.unwrap_model(model).parameters())
    result = {"loss": float(out.loss), "checksum": checksum, "world": accelerator.num_processes}
    Path(out_dir, f"rank{accelerator.process_index}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
