"""Pooling heads: frame-level hidden states -> one utterance vector.

Every head shares one interface (after s3prl's ``nn/pooling.py``)::

    head = POOLING[name](input_size, **kwargs)
    head.output_size                     # int
    head(hidden_states, mask)            # hidden_states: (batch, frames, hidden), mask: (batch, frames) bool
                                         # -> (batch, output_size)

``mask`` is True on real frames. Padding never changes the output: masking is out-of-place (``masked_fill`` /
multiplication), so a clip alone and the same clip padded inside a batch pool to the same vector.
Adding a head is one class plus one entry in ``POOLING``.

This module is saved next to the model weights and imported by ``trust_remote_code`` loaders, so it imports
only ``torch`` (no ``hf_ser``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _masked_mean(hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over real frames.

    Args:
        hidden_states: (batch, frames, hidden).
        mask: (batch, frames) bool, True on real frames.

    Returns:
        (batch, hidden).
    """
    weights = mask.to(hidden_states.dtype).unsqueeze(-1)
    # clamp: an all-padding row (never produced by the collator) must give zeros, not NaN.
    count = weights.sum(dim=1).clamp(min=1.0)
    return (hidden_states * weights).sum(dim=1) / count


class MeanPooling(nn.Module):
    """Masked mean over frames (the HF ``*ForSequenceClassification`` head without its projector)."""

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.input_size = input_size

    @property
    def output_size(self) -> int:
        return self.input_size

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden_states: (batch, frames, hidden), mask: (batch, frames) bool -> (batch, hidden)."""
        return _masked_mean(hidden_states, mask)


class MeanStdPooling(nn.Module):
    """Statistics pooling: masked mean and standard deviation, concatenated (x-vector style)."""

    def __init__(self, input_size: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.input_size = input_size
        self.eps = eps

    @property
    def output_size(self) -> int:
        return 2 * self.input_size

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden_states: (batch, frames, hidden), mask: (batch, frames) bool -> (batch, 2 * hidden)."""
        mean = _masked_mean(hidden_states, mask)
        centred = hidden_states - mean.unsqueeze(1)
        variance = _masked_mean(centred * centred, mask)
        # eps inside the sqrt keeps the gradient finite for constant features (sqrt'(0) is infinite).
        return torch.cat([mean, torch.sqrt(variance + self.eps)], dim=-1)


class MaxPooling(nn.Module):
    """Masked maximum over frames: keeps short, salient events (a laugh, a shout) that a mean dilutes."""

    def __init__(self, input_size: int) -> None:
        super().__init__()
        self.input_size = input_size

    @property
    def output_size(self) -> int:
        return self.input_size

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden_states: (batch, frames, hidden), mask: (batch, frames) bool -> (batch, hidden)."""
        lowest = torch.finfo(hidden_states.dtype).min
        return hidden_states.masked_fill(~mask.unsqueeze(-1), lowest).amax(dim=1)


class AttentionPooling(nn.Module):
    """Self-attentive pooling (Lin et al. 2017; Safari et al. 2020 for speech).

    Each of ``num_heads`` heads scores every frame with a small MLP (``hidden -> attention_size -> 1``), takes a
    masked softmax over frames and returns the weighted mean; heads are concatenated.
    """

    def __init__(self, input_size: int, num_heads: int = 1, attention_size: int | None = None) -> None:
        super().__init__()
        if num_heads < 1:
            raise ValueError(f"num_heads must be >= 1, got {num_heads}")
        self.input_size = input_size
        self.num_heads = num_heads
        attention_size = attention_size or input_size
        self.score = nn.Sequential(
            nn.Linear(input_size, attention_size), nn.Tanh(), nn.Linear(attention_size, num_heads)
        )

    @property
    def output_size(self) -> int:
        return self.num_heads * self.input_size

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden_states: (batch, frames, hidden), mask: (batch, frames) bool -> (batch, heads * hidden)."""
        scores = self.score(hidden_states)  # (batch, frames, heads)
        scores = scores.masked_fill(~mask.unsqueeze(-1), torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=1)  # (batch, frames, heads)
        pooled = torch.einsum("bth,btd->bhd", weights, hidden_states)  # (batch, heads, hidden)
        return pooled.flatten(start_dim=1)


class BiLSTMPooling(nn.Module):
    """Bidirectional LSTM over packed sequences; returns the final forward and backward states, concatenated.

    Packing (``pack_padded_sequence``) means the LSTM never reads a padding frame, in either direction.
    """

    def __init__(self, input_size: int, lstm_hidden_size: int = 128, num_layers: int = 1) -> None:
        super().__init__()
        self.input_size = input_size
        self.lstm_hidden_size = lstm_hidden_size
        self.lstm = nn.LSTM(
            input_size, lstm_hidden_size, num_layers=num_layers, batch_first=True, bidirectional=True
        )

    @property
    def output_size(self) -> int:
        return 2 * self.lstm_hidden_size

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hidden_states: (batch, frames, hidden), mask: (batch, frames) bool -> (batch, 2 * lstm_hidden)."""
        # The collator pads at the end, so the number of True entries is each row's length.
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            hidden_states, lengths, batch_first=True, enforce_sorted=False
        )
        _, (final_hidden, _) = self.lstm(packed)  # final_hidden: (layers * 2, batch, lstm_hidden)
        return torch.cat([final_hidden[-2], final_hidden[-1]], dim=-1)


POOLING: dict[str, type[nn.Module]] = {
    "mean": MeanPooling,
    "stats": MeanStdPooling,
    "max": MaxPooling,
    "attention": AttentionPooling,
    "bilstm": BiLSTMPooling,
}


def build_pooling(name: str, input_size: int, **kwargs: Any) -> nn.Module:
    """Build a pooling head by registry name.

    Args:
        name: key of ``POOLING``.
        input_size: hidden size of the frames it pools.
        **kwargs: head options (e.g. ``num_heads`` for "attention", ``lstm_hidden_size`` for "bilstm").

    Returns:
        The head; its ``output_size`` gives the pooled width.

    Raises:
        KeyError: unknown name (the message lists the valid ones).
    """
    if name not in POOLING:
        raise KeyError(f"Unknown pooling {name!r}; choose one of {sorted(POOLING)}")
    return POOLING[name](input_size, **kwargs)
