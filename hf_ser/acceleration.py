"""The GPU-path settings of a run, kept in one place: what ``accelerate``, the DataLoaders and the model get.

Every setting here is a no-op on a CPU run with the recipe defaults (so CPU figures do not move):

* non-blocking host-to-device copies of batches, on CUDA only (the loaders pin them there, and give each
  worker one torch thread: ``hf_ser.data.loaders.loader_kwargs``);
* ``torch.compile`` (recipe ``train.compile``) with static shapes, fed by batches padded to a fixed ladder of
  lengths (``hf_ser.data.batching.pad_ladder``), with dynamo's recompile limit raised to the ladder's size.
"""

from __future__ import annotations

from typing import Any

import torch
from accelerate.utils import DataLoaderConfiguration, TorchDynamoPlugin

from hf_ser.config import TrainConfig
from hf_ser.data.batching import pad_ladder


def accelerator_kwargs(tc: TrainConfig) -> dict[str, Any]:
    """Extra ``Accelerator(...)`` arguments: non-blocking batch copies on CUDA, the compile plugin."""
    kwargs: dict[str, Any] = {"dataloader_config": DataLoaderConfiguration(non_blocking=torch.cuda.is_available())}
    if tc.compile:
        kwargs["dynamo_plugin"] = TorchDynamoPlugin(backend="inductor", dynamic=False)
    return kwargs


def compile_pad_lengths(tc: TrainConfig, shortest: int, longest: int) -> tuple[int, ...]:
    """The padded lengths batches take when ``train.compile`` is on (``()``: pad to the batch's longest clip).

    ``shortest`` / ``longest``: the clip lengths (samples) the run's batches can have. Also lets dynamo keep
    one compiled graph per rung and per batch size instead of its default 8.
    """
    if not tc.compile:
        return ()
    ladder = pad_ladder(longest, shortest=shortest)
    limit = 4 * len(ladder) + 8  # rungs x a few batch sizes (last batch, token-budget batches)
    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, limit)
    torch._dynamo.config.accumulated_cache_size_limit = max(torch._dynamo.config.accumulated_cache_size_limit, 4 * limit)
    return ladder
