"""What both benchmark paths report, and the small tools that measure it (timers, peak memory)."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field

import psutil
import torch


@dataclass
class PathResult:
    """The figures of one training path (all times in seconds, audio in 16 kHz seconds of real samples)."""

    name: str
    train_audio_s: float = 0.0  # real audio seen in training, all epochs
    train_time_s: float = 0.0  # wall time of the training epochs (no evaluation)
    epoch_times_s: list[float] = field(default_factory=list)
    real_samples: int = 0  # real samples in the training batches
    computed_samples: int = 0  # padded samples the model computed on
    data_wait_s: float = 0.0  # training time spent producing batches (next(loader) / transform + collate)
    eval_audio_s: float = 0.0
    eval_time_s: float = 0.0
    peak_memory_mb: float = 0.0
    train_loss: float = float("nan")  # mean training loss over all steps
    wa: float = float("nan")
    ua: float = float("nan")
    prepare_s: float = 0.0  # one-time decode into the audio store (hf_ser only)
    train_cpu_s: float = 0.0  # CPU time of this process (all its threads) during training
    machine_busy: float = float("nan")  # whole machine's CPU use during training, 0-1 (1 = every core busy)
    notes: dict = field(default_factory=dict)

    @property
    def train_audio_s_per_cpu_s(self) -> float:
        """Training audio-seconds per CPU-second of this process: steadier than wall time on a busy machine."""
        return self.train_audio_s / self.train_cpu_s if self.train_cpu_s else 0.0

    @property
    def train_audio_s_per_s(self) -> float:
        return self.train_audio_s / self.train_time_s if self.train_time_s else 0.0

    @property
    def eval_audio_s_per_s(self) -> float:
        return self.eval_audio_s / self.eval_time_s if self.eval_time_s else 0.0

    @property
    def real_frame_fraction(self) -> float:
        return self.real_samples / self.computed_samples if self.computed_samples else 0.0

    @property
    def later_epoch_s(self) -> float:
        """Mean time of the epochs after the first (the first fills the frozen-output cache)."""
        later = self.epoch_times_s[1:]
        return sum(later) / len(later) if later else float("nan")

    def to_dict(self) -> dict:
        out = asdict(self)
        for name in (
            "train_audio_s_per_s", "train_audio_s_per_cpu_s", "eval_audio_s_per_s", "real_frame_fraction", "later_epoch_s"
        ):
            out[name] = getattr(self, name)
        return out


class PeakMemory:
    """Peak memory while the ``with`` block runs: CUDA allocator peak on a GPU, else sampled process RSS (MB).

    RSS is the whole process, so a phase's peak includes what earlier phases left allocated.
    """

    def __init__(self, interval_s: float = 0.05):
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        else:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if torch.cuda.is_available():
            self.peak_mb = torch.cuda.max_memory_allocated() / 2**20
        else:
            self._stop.set()
            self._thread.join()

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            time.sleep(self.interval_s)


class CpuClock:
    """Process CPU seconds and the machine's CPU use (0-1, all cores) while the ``with`` block runs."""

    def __enter__(self) -> CpuClock:
        self.cpu_s = 0.0
        self.machine_busy = float("nan")
        psutil.cpu_percent(interval=None)  # starts the machine-wide interval
        self._cpu0 = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.cpu_s = time.process_time() - self._cpu0
        self.machine_busy = psutil.cpu_percent(interval=None) / 100.0


class Stopwatch:
    """Accumulates the time spent inside ``with watch:`` blocks."""

    def __init__(self) -> None:
        self.total_s = 0.0

    def __enter__(self) -> Stopwatch:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.total_s += time.perf_counter() - self._t0


def synchronize() -> None:
    """Wait for queued GPU work so wall-clock timers mean something."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
