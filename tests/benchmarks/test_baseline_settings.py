"""The Trainer baseline stays faithful to transformers' audio-classification example: the settings it mirrors."""

from __future__ import annotations

import pytest
from transformers import TrainingArguments
from transformers.trainer_pt_utils import LengthGroupedSampler

from benchmarks.trainer.baseline import trainer_arguments

# The example (examples/pytorch/audio-classification/run_audio_classification.py, README command) leaves these
# at the TrainingArguments defaults; the benchmark passes its shared batch size, epochs, lr, warmup and seed.
MIRRORED_DEFAULTS = {
    "weight_decay": 0.0,
    "max_grad_norm": 1.0,
    "gradient_accumulation_steps": 1,
    "dataloader_num_workers": 0,
    "lr_scheduler_type": "linear",
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "gradient_checkpointing": False,
}
SHARED = dict(batch_size=8, epochs=3, lr=5e-4, warmup_ratio=0.1, seed=0, bf16=False)


def _args(tmp_path, group_by_length: bool) -> TrainingArguments:
    return TrainingArguments(output_dir=str(tmp_path), **trainer_arguments(**SHARED, group_by_length=group_by_length))


def test_baseline_mirrors_the_example_defaults(tmp_path):
    args = _args(tmp_path, group_by_length=False)
    for name, value in MIRRORED_DEFAULTS.items():
        got = getattr(args, name)
        assert (got.value if hasattr(got, "value") else got) == value, name
    assert args.optim.value.startswith("adamw_torch")  # the Trainer's AdamW
    assert args.train_sampling_strategy == "random"  # the example's default sampler
    assert args.per_device_train_batch_size == 8 and args.num_train_epochs == 3 and args.learning_rate == 5e-4
    assert args.warmup_steps == pytest.approx(0.1) and args.seed == 0
    assert args.remove_unused_columns is False  # its transform needs the audio column, as in the example


def test_group_by_length_baseline_uses_the_trainers_length_grouped_sampler(tmp_path):
    import datasets
    import torch
    from transformers import Trainer, Wav2Vec2FeatureExtractor

    args = _args(tmp_path, group_by_length=True)
    assert args.train_sampling_strategy == "group_by_length"
    waves = [[0.1] * n for n in (1600, 32000, 3200, 16000)]
    ds = datasets.Dataset.from_dict({"input_values": waves, "labels": [0, 1, 0, 1]})
    trainer = Trainer(model=torch.nn.Linear(1, 1), args=args, train_dataset=ds, processing_class=Wav2Vec2FeatureExtractor())
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, LengthGroupedSampler) and sorted(sampler.lengths) == [1600, 3200, 16000, 32000]
