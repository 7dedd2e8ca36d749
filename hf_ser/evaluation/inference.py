"""The one place a model meets audio: loading a saved model, windows, batches, the forward pass, clip logits.

Training (validation, test and cross-corpus targets), ``hf-ser evaluate``, ``hf-ser matrix`` and
``hf-ser predict`` all score audio through this module, so they agree on the figures and on memory.

**Windowing rule.** Clips longer than the model's window are cut into 50 %-overlapping windows whose logits
are averaged; the rule, and file decoding, live in ``hf_ser.evaluation.windowing`` (torch-free, shared with
``hf_ser.load``'s ONNX backend) and are re-exported here. Memory is bounded by the window, not by the longest clip.

**Foreign code.** ``load_model`` never runs Python shipped in a model folder unless the caller opts in
(``trust_remote_code=True``, ``--trust-remote-code``): hf_ser's own classes are registered by
``import hf_ser``, and a model of hf_ser's own type is loaded with them whatever ``.py`` files its folder
carries (its saved format is migrated on load, ``hf_ser.saved_format``, so a folder saved by an earlier release
loads). A folder that names code for any other model type is refused (``ForeignCodeError``). With the
opt-in, transformers still prefers registered classes: a model of hf_ser's own type loads with the installed
hf_ser's classes, a model of any other type with its folder's code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

from hf_ser.audio import SAMPLE_RATE
from hf_ser.data.batching import BucketBatchSampler, Collator
from hf_ser.data.loaders import loader_generator, loader_kwargs
from hf_ser.errors import UserError
from hf_ser.evaluation.heap import HeapTrimmer
from hf_ser.evaluation.windowing import (  # noqa: F401  (re-exported: the windowing rule's public home is windowing)
    DEFAULT_WINDOW_S,
    GROUP_WINDOWS,
    WINDOW_CONFIG_KEY,
    clip_means,
    clip_windows,
    decode_checked,
    decoded_groups,
    too_short,
    window_seconds,
)

if TYPE_CHECKING:
    from hf_ser.data.prepare import PreparedData

logger = logging.getLogger(__name__)

MODEL_INPUTS = ("input_values", "input_features", "attention_mask", "text_input_ids", "text_attention_mask")


# ---------------------------------------------------------------------------------------------- windows
def min_samples(config: Any) -> int:
    """Shortest input the model accepts (its CNN's receptive field; 1 without a CNN feature encoder)."""
    from hf_ser.models.receptive_field import receptive_field

    return receptive_field(config)


class WindowedClips(torch.utils.data.Dataset):
    """The windows of clips (see the module docstring), each item labelled with its clip.

    Args:
        get_wave: returns the 16 kHz float32 waveform of clip ``i``.
        lengths: samples per clip.
        window: window length in samples.
        label_ids: class index per clip (``-100`` when unknown).
        dims: optional ``(clips, n_dims)`` dimensional targets.
        text_ids: transcript token ids per clip (speech + text models; every window of a clip gets its clip's
            transcript); None: speech only.
    """

    def __init__(
        self,
        get_wave: Callable[[int], np.ndarray],
        lengths: Sequence[int],
        window: int,
        label_ids: Sequence[int] | None = None,
        dims: np.ndarray | None = None,
        text_ids: Sequence[Sequence[int]] | None = None,
    ):
        self.get_wave = get_wave
        self.text_ids = text_ids
        self.label_ids = list(label_ids) if label_ids is not None else [-100] * len(lengths)
        self.dims = dims
        self.items = [(clip, s, e) for clip, n in enumerate(lengths) for s, e in clip_windows(int(n), window)]

    @property
    def window_lengths(self) -> list[int]:
        return [e - s for _, s, e in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k: int) -> dict:
        clip, start, end = self.items[k]
        item = {
            "wave": np.asarray(self.get_wave(clip)[start:end], dtype=np.float32),
            "label": self.label_ids[clip],
            "index": clip,
            "window": k,
        }
        if self.dims is not None:
            item["dims"] = self.dims[clip]
        if self.text_ids is not None:
            item["text_ids"] = self.text_ids[clip]
        return item


def window_loader(
    get_wave: Callable[[int], np.ndarray],
    lengths: Sequence[int],
    *,
    window: int,
    batch_size: int,
    label_ids: Sequence[int] | None = None,
    dims: np.ndarray | None = None,
    collate_fn: Callable | None = None,
    num_workers: int = 0,
    seed: int = 0,
    pad_lengths: tuple[int, ...] = (),
    text_ids: Sequence[Sequence[int]] | None = None,
) -> torch.utils.data.DataLoader:
    """Windows of clips, sorted by length (little padding), in a fixed order; batches carry ``index`` (clip)
    and ``window`` (window id) besides the model inputs. ``pad_lengths``: fixed padded lengths for the
    default ``Collator`` (a compiled model's static shapes); ``text_ids``: transcript tokens per clip."""
    dataset = WindowedClips(get_wave, lengths, window, label_ids, dims, text_ids)
    collate_fn = collate_fn or Collator(pad_lengths=pad_lengths)
    if not len(dataset):
        return torch.utils.data.DataLoader(dataset, batch_size=1, collate_fn=collate_fn, generator=loader_generator(seed))
    sampler = BucketBatchSampler(dataset.window_lengths, batch_size=batch_size, shuffle=False)
    return torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_fn, num_workers=num_workers, generator=loader_generator(seed),
        **loader_kwargs(num_workers),
    )


def eval_loader(
    data: PreparedData,
    indices: Sequence[int],
    label_ids: np.ndarray,
    *,
    window: int,
    batch_size: int,
    num_workers: int = 0,
    seed: int = 0,
    dims: np.ndarray | None = None,
    pad_lengths: tuple[int, ...] = (),
    text_ids: Sequence[Sequence[int]] | None = None,
) -> torch.utils.data.DataLoader:
    """``window_loader`` over rows ``indices`` of prepared (decoded) corpora; ``index`` = position in ``indices``.

    Args:
        label_ids: class id of every row of ``data`` (-100 where the row's label is not a model class).
        dims: ``(rows, n_dims)`` dimensional targets of every row, for regression / multitask models.
        pad_lengths: fixed padded lengths (a compiled model's static shapes); see ``Collator``.
        text_ids: transcript token ids of every row of ``data`` (speech + text models).
    """
    indices = list(indices)
    return window_loader(
        lambda i: data.wave(indices[i]),
        data.lengths[indices].tolist() if indices else [],
        window=window,
        batch_size=batch_size,
        label_ids=label_ids[indices] if indices else [],
        dims=dims[indices] if dims is not None and indices else None,
        num_workers=num_workers,
        seed=seed,
        pad_lengths=pad_lengths,
        text_ids=[text_ids[i] for i in indices] if text_ids is not None else None,
    )


# ---------------------------------------------------------------------------------------------- forward
def forward(model: torch.nn.Module, batch: dict[str, torch.Tensor]):
    """The forward pass: the model sees its inputs only (``input_values``/``input_features``, ``attention_mask``)."""
    return model(**{k: v for k, v in batch.items() if k in MODEL_INPUTS})


class _ExtractorCollator:
    """Batches for models whose feature extractor is not a plain waveform normaliser (log-mel and co.)."""

    def __init__(self, feature_extractor):
        self.feature_extractor = feature_extractor
        self.sampling_rate = int(getattr(feature_extractor, "sampling_rate", SAMPLE_RATE))

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        batch = dict(
            self.feature_extractor(
                [it["wave"] for it in items], sampling_rate=self.sampling_rate, padding=True, return_tensors="pt"
            )
        )
        batch["index"] = torch.tensor([it["index"] for it in items], dtype=torch.long)
        batch["window"] = torch.tensor([it["window"] for it in items], dtype=torch.long)
        batch["labels"] = torch.tensor([it["label"] for it in items], dtype=torch.long)
        return batch


class _NoMaskCollator(Collator):
    """Group-norm wav2vec2 models were trained without attention masks: their extractor says so."""

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        batch = super().__call__(items)
        batch.pop("attention_mask")
        return batch


def collator_for(feature_extractor) -> Callable[[list[dict]], dict[str, torch.Tensor]]:
    """The batch builder that gives a model what its saved feature extractor gives it.

    A ``Wav2Vec2FeatureExtractor`` (raw waveform, optional per-clip normalisation) gets the training
    ``Collator``, so a saved hf_ser model sees at evaluation exactly what it saw in training.
    """
    from transformers import Wav2Vec2FeatureExtractor

    if isinstance(feature_extractor, Wav2Vec2FeatureExtractor):
        normalize = bool(getattr(feature_extractor, "do_normalize", True))
        use_mask = bool(getattr(feature_extractor, "return_attention_mask", True))
        return Collator(normalize=normalize) if use_mask else _NoMaskCollator(normalize=normalize)
    return _ExtractorCollator(feature_extractor)


def score_windows(
    model: torch.nn.Module,
    waves: Sequence[np.ndarray],
    *,
    window: int,
    batch_size: int,
    collate_fn: Callable | None = None,
    device: str | torch.device = "cpu",
    output: str = "logits",
    text_ids: Sequence[Sequence[int]] | None = None,
) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """Logits (or the ``output`` named, see ``output_width``) of every window of in-memory clips, in eval mode
    without gradients. ``text_ids``: transcript token ids per clip (speech + text models; ``[]``: none).

    Returns:
        ``(windows, logits)``: ``windows[k] = (clip, start, end)`` and ``logits: (len(windows), num_labels)``.
    """
    loader = window_loader(
        lambda i: waves[i], [len(w) for w in waves], window=window, batch_size=batch_size, collate_fn=collate_fn,
        text_ids=text_ids,
    )
    windows = loader.dataset.items
    logits = np.zeros((len(windows), output_width(model.config, output)), dtype=np.float32)
    was_training = model.training
    model.eval()
    trim = HeapTrimmer() if len(loader) > 1 else None  # one batch leaves nothing to give back
    try:
        with torch.inference_mode():
            for batch in loader if windows else ():
                out = forward(model, {k: v.to(device) for k, v in batch.items() if k in MODEL_INPUTS})
                logits[batch["window"].numpy()] = getattr(out, output).float().cpu().numpy()
                if trim is not None:
                    trim()
    finally:
        model.train(was_training)
    return windows, logits


def output_width(config, output: str = "logits") -> int:
    """Columns of a model output: ``"logits"`` has ``num_labels``; ``"dims"`` (the dimensional head of a
    regression / multitask model) has one per ``config.dims``."""
    return int(config.num_labels) if output == "logits" else len(config.dims)


def clip_logits(
    model: torch.nn.Module,
    waves: Sequence[np.ndarray],
    *,
    window: int,
    batch_size: int,
    collate_fn: Callable | None = None,
    device: str | torch.device = "cpu",
    output: str = "logits",
    text_ids: Sequence[Sequence[int]] | None = None,
) -> np.ndarray:
    """``(len(waves), num_labels)`` float32 logits (or ``output``) of in-memory clips: the mean over each clip's
    windows (``text_ids``: transcripts of a speech + text model, as ``score_windows``)."""
    windows, logits = score_windows(
        model, waves, window=window, batch_size=batch_size, collate_fn=collate_fn, device=device, output=output,
        text_ids=text_ids,
    )
    if not windows:
        return np.zeros((len(waves), output_width(model.config, output)), dtype=np.float32)
    _, means = clip_means(np.array([c for c, _, _ in windows]), np.arange(len(windows)), logits)
    return means


def infer_logits(
    model: torch.nn.Module,
    feature_extractor,
    paths: Sequence[str],
    durations_s: Sequence[float] | None = None,
    *,
    window_s: float | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    progress: bool = True,
    output: str = "logits",
    text_ids: Sequence[Sequence[int]] | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """Run ``model`` over audio files and collect one row of logits (or ``output``) per file (windows aggregated).

    Files are taken in order of duration, decoded a few at a time (``decoded_groups``), scored and released,
    so memory stays bounded by the window and the group, not by the corpus.

    Args:
        model: any audio-classification model returning ``.logits``.
        feature_extractor: the model's saved extractor (``collator_for`` builds batches like it).
        paths: audio files.
        durations_s: header durations used for sorting; ``None`` keeps the given order.
        window_s: window length; ``None`` reads it from the model (``window_seconds``).
        batch_size: windows per forward pass.
        device: torch device string.
        progress: show a progress bar.
        output: ``"logits"``, or ``"dims"`` for the dimensional head of a regression / multitask model.
        text_ids: a speech + text model's transcript token ids per file (``[]``: none), as ``score_windows``.

    Returns:
        ``(logits, failures)``: ``logits: (len(paths), num_labels)`` float32 with NaN rows for failed files,
        and ``failures`` ``{position in paths: reason}`` for unreadable, silent or too short files.
    """
    sampling_rate = int(getattr(feature_extractor, "sampling_rate", SAMPLE_RATE))
    window = int(window_seconds(model.config, window_s) * sampling_rate)
    collate = collator_for(feature_extractor)
    logits = np.full((len(paths), output_width(model.config, output)), np.nan, dtype=np.float32)
    failures: dict[int, str] = {}
    order = list(range(len(paths)))
    if durations_s is not None:
        order.sort(key=lambda i: float(durations_s[i]))
    model.to(device)
    groups = decoded_groups([paths[i] for i in order], sampling_rate=sampling_rate, window=window, minimum=min_samples(model.config))
    with tqdm(total=len(order), desc="evaluate", unit="clip", disable=not progress) as bar:
        for group in groups:
            for pos, _, reason in group:
                if reason is not None:
                    logger.warning("skipping %s: %s", paths[order[pos]], reason)
                    failures[order[pos]] = reason
            ok = [(order[pos], wave) for pos, wave, _ in group if wave is not None]
            if ok:
                scored = clip_logits(
                    model, [w for _, w in ok], window=window, batch_size=batch_size, collate_fn=collate, device=device,
                    output=output, text_ids=None if text_ids is None else [text_ids[i] for i, _ in ok],
                )
                logits[[i for i, _ in ok]] = scored
            bar.update(len(group))
    return logits, failures


# ---------------------------------------------------------------------------------------------- loading
class ForeignCodeError(UserError, ValueError):
    """A model folder that needs Python code of its own: a model type the installed hf_ser does not provide."""



class ModelPathError(UserError, FileNotFoundError):
    """The model argument is not a saved model folder (a mistyped path, a run folder, an ONNX export)."""


# What ``hf-ser export onnx`` writes: run by onnxruntime (``--backend onnx``), never by transformers.
ONNX_SUFFIX = ".onnx"


def check_model_location(name_or_dir: str | Path) -> None:
    """Refuse, in one line naming what to type instead, what cannot be a saved model: an ``.onnx`` export, a run
    folder (its model is ``model/``), a folder without ``config.json``, or a path that does not exist. A string
    that is no local path and looks like ``owner/name`` is left to the Hub.

    Raises:
        ModelPathError: see above.
    """
    text = str(name_or_dir)
    path = Path(text).expanduser()
    if path.suffix.lower() == ONNX_SUFFIX:
        raise ModelPathError(
            f"{text} is an ONNX export: run it with `hf-ser predict {text} AUDIO... --backend onnx`, or pass the "
            "saved model folder it was exported from"
        )
    if path.is_dir():
        if (path / "config.json").is_file():
            return
        if (path / "model" / "config.json").is_file():
            raise ModelPathError(f"{text} is a run folder: pass its saved model, {path / 'model'}")
        folds = sorted(p.parent for p in path.glob("fold_*/model/config.json"))
        if folds:
            raise ModelPathError(f"{text} is a cross-validation run folder: pass one fold's model, e.g. {folds[0] / 'model'}")
        raise ModelPathError(f"{text} holds no saved model (no config.json): pass a run's model/ folder")
    if path.exists():
        raise ModelPathError(f"{text} is a file, not a saved model folder: pass a run's model/ folder")
    parts = Path(text).parts
    looks_local = (
        text.startswith((".", "/", "~")) or len(parts) != 2 or Path(parts[0]).is_dir() or path.suffix != ""
    )
    if looks_local:
        raise ModelPathError(f"model {text} does not exist: check the path (a run's saved model is RUN_DIR/model)")



def check_model_code(model_dir: str | Path) -> None:
    """Refuse a local model folder that names code of its own (``auto_map`` in ``config.json`` or
    ``preprocessor_config.json``) for a model type hf_ser does not provide.

    A folder of hf_ser's own types (``hf_ser.saved_format.OPTIONS_OF_MODEL_TYPE``) is loaded with the installed
    hf_ser's classes whatever ``.py`` files it carries (they are never run, and need not match: an older format
    is migrated on load); a folder without ``auto_map`` is loaded by stock transformers classes.

    Raises:
        ForeignCodeError: naming the folder's model type, why it matters and how to opt in.
    """
    from hf_ser.saved_format import OPTIONS_OF_MODEL_TYPE

    folder = Path(model_dir).expanduser()
    if not folder.is_dir():
        return  # a Hub id: transformers itself refuses code it would have to run (see load_model)
    if not any(_names_code(folder / name) for name in ("config.json", "preprocessor_config.json")):
        return
    model_type = _model_type(folder / "config.json")
    if model_type in OPTIONS_OF_MODEL_TYPE:
        return
    import hf_ser

    raise ForeignCodeError(
        f"{folder} ships Python code for a model of type {model_type!r}, which the installed hf_ser "
        f"{hf_ser.__version__} does not provide. hf_ser never runs a model folder's code by default (it could do "
        "anything). If you trust this folder, pass --trust-remote-code (Python: trust_remote_code=True)."
    )


def _model_type(path: Path) -> str | None:
    try:
        return json.loads(path.read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None


def _names_code(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("auto_map"))
    except (OSError, ValueError, AttributeError):
        return False


def load_model(
    name_or_dir: str | Path, *, trust_remote_code: bool = False, device: str = "cpu", attn_implementation: str | None = None
):
    """Load a saved audio-classification model and its feature extractor, in eval mode on ``device``.

    Without ``trust_remote_code`` no code from the folder or Hub repo runs: hf_ser's classes (registered by
    ``import hf_ser``) and stock transformers classes load it, and a local folder that needs code of another
    model type is refused (``ForeignCodeError``). A folder saved by an earlier hf_ser is migrated on load; one
    saved in a newer format is refused (``hf_ser.saved_format.NewerFormatError``) naming the version to install.
    transformers is always told the user's choice, so it never asks "run custom code?" on the terminal.

    Args:
        attn_implementation: passed to ``from_pretrained`` when given (ONNX export uses "eager").

    Returns:
        ``(model, feature_extractor)``.

    Raises:
        ForeignCodeError: see above; also when the model needs code of its own that hf_ser lacks.
        NewerFormatError: saved by a newer hf_ser.
        ModelPathError: ``name_or_dir`` is no saved model (``check_model_location``).
    """
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    import hf_ser.auto_classes

    hf_ser.auto_classes.register_now()
    source = str(name_or_dir)
    check_model_location(name_or_dir)
    if not trust_remote_code:
        check_model_code(name_or_dir)
    try:
        kwargs = {"attn_implementation": attn_implementation} if attn_implementation else {}
        model = AutoModelForAudioClassification.from_pretrained(source, trust_remote_code=trust_remote_code, **kwargs)
        extractor = AutoFeatureExtractor.from_pretrained(source, trust_remote_code=trust_remote_code)
    except ValueError as e:
        if trust_remote_code or "trust_remote_code" not in str(e):
            raise
        raise ForeignCodeError(
            f"{source} needs Python code of its own that hf_ser does not provide; it is not run by default. "
            "If you trust it, pass --trust-remote-code (Python: trust_remote_code=True)."
        ) from e
    return model.to(device).eval(), extractor
