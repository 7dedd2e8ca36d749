"""What the training loop measures about itself (``LoopTiming``): loss, audio seconds, epoch and wait times."""

from __future__ import annotations

import time

import torch

from hf_ser.audio import SAMPLE_RATE


class LoopTiming:
    """What the training loop measures about itself, accumulated on the device and read only at log steps.

    Loss and real audio samples are summed as device tensors (``read`` is the only host sync of a step, and
    runs every ``log_every_n_steps``). For ``metrics.json`` (and ``hf-ser bench``, which reads it) it also
    keeps the wall time and process CPU time of every epoch (validation and checkpoints inside an epoch
    excluded; a final partial epoch counts), the time spent waiting for batches, and real versus padded samples. A resumed run counts
    its resumed part only.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self._loss_window = torch.zeros((), device=device)
        self._loss_total = torch.zeros((), device=device)
        self._window_batches = 0
        self._batches = 0
        self._real = torch.zeros((), dtype=torch.int64, device=device)
        self._real_at_start = 0
        self.padded_samples = 0
        self.epoch_s: list[float] = []
        self.epoch_cpu_s: list[float] = []  # this process's CPU time (all threads) over the same spans
        self.data_wait_s = 0.0
        self._t0 = time.perf_counter()
        self._epoch_t0 = self._t0
        self._paused_at: float | None = None
        self._paused_s = 0.0
        self._epoch_cpu0 = time.process_time()
        self._paused_cpu_at = 0.0
        self._paused_cpu_s = 0.0

    def batches(self, loader):
        """Iterate ``loader``, timing how long each batch takes to arrive."""
        it = iter(loader)
        while True:
            t0 = time.perf_counter()
            batch = next(it, None)
            self.data_wait_s += time.perf_counter() - t0
            if batch is None:
                return
            yield batch

    def add_batch(self, loss: torch.Tensor, attention_mask: torch.Tensor) -> None:
        loss = loss.detach().float()
        self._loss_window += loss
        self._loss_total += loss
        self._window_batches += 1
        self._batches += 1
        self._real += attention_mask.sum()
        self.padded_samples += attention_mask.numel()

    def read(self, num_processes: int) -> tuple[float, float]:
        """Mean loss since the last read and audio-seconds per second since the start (all processes); syncs."""
        mean_loss = (self._loss_window / max(1, self._window_batches)).item()
        self._loss_window.zero_()
        self._window_batches = 0
        audio_s = self._real.item() / SAMPLE_RATE * num_processes
        return mean_loss, audio_s / max(time.perf_counter() - self._t0, 1e-9)

    def start_epoch(self) -> None:
        self._epoch_t0, self._paused_s = time.perf_counter(), 0.0
        self._epoch_cpu0, self._paused_cpu_s = time.process_time(), 0.0

    def pause(self) -> None:
        _synchronize(self.device)
        self._paused_at, self._paused_cpu_at = time.perf_counter(), time.process_time()

    def resume(self) -> None:
        self._paused_s += time.perf_counter() - self._paused_at
        self._paused_cpu_s += time.process_time() - self._paused_cpu_at
        self._paused_at = None

    def end_epoch(self) -> None:
        _synchronize(self.device)
        self.epoch_s.append(time.perf_counter() - self._epoch_t0 - self._paused_s)
        self.epoch_cpu_s.append(time.process_time() - self._epoch_cpu0 - self._paused_cpu_s)

    def report(self, num_processes: int) -> dict:
        """The ``training`` section of ``metrics.json``: what was trained on, the same on every rerun (this
        process's batches scaled to all processes). Times are in ``times()``."""
        real = int(self._real.item())
        return {
            "train_audio_s": real / SAMPLE_RATE * num_processes,
            "padded_audio_s": self.padded_samples / SAMPLE_RATE * num_processes,
            "train_loss": (self._loss_total / self._batches).item() if self._batches else None,
            "batches": self._batches,
            "num_processes": num_processes,
        }

    def times(self) -> dict:
        """The ``training`` section of ``timing.json``: wall and CPU seconds, which change from run to run."""
        return {
            "epoch_s": [round(t, 4) for t in self.epoch_s],
            "train_s": round(sum(self.epoch_s), 4),
            "train_cpu_s": round(sum(self.epoch_cpu_s), 4),
            "data_wait_s": round(self.data_wait_s, 4),
        }


def _synchronize(device: torch.device) -> None:
    # Wall-clock timers mean something only once the queued GPU work is done (once per epoch, not per step).
    if device.type == "cuda":
        torch.cuda.synchronize(device)
