"""Push a corpus prepared by hf_ser to the Hub as parquet, only when its licence allows redistribution.

The dataset's ``path`` column (absolute, machine-specific) is replaced by an ``audio`` column holding each
file's original bytes (``datasets.Audio(decode=False)``) plus its ``rel_path``, so the pushed copy is
self-contained and holds no local paths.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import datasets
from huggingface_hub import CommitOperationAdd, HfApi

from hf_ser.hub.auth import resolve_token
from hf_ser.hub.push import with_retries

logger = logging.getLogger(__name__)

SHARD_ROWS = 2_000


class RedistributionError(PermissionError):
    """The corpus licence does not allow pushing a copy; pass ``force=True`` only with the rights to do so."""


def check_redistributable(corpus: str, *, force: bool = False) -> str:
    """Return the corpus licence, or raise when it forbids (or does not state) redistribution and not ``force``."""
    from hf_ser.corpora import get_corpus

    info = get_corpus(corpus).info
    licence = getattr(info, "license", "") or "unknown licence"
    if getattr(info, "redistributable", False):
        return licence
    if force:
        logger.warning("pushing %s although hf_ser marks it not redistributable (%s): force=True", corpus, licence)
        return licence
    raise RedistributionError(
        f"corpus {corpus!r} ({licence}) is not marked redistributable in hf_ser; its licence may forbid sharing "
        "copies. Push only if you hold the rights, with force=True (CLI: --force)."
    )


def _with_audio_bytes(dataset: datasets.Dataset) -> datasets.Dataset:
    if "audio" in dataset.column_names or "path" not in dataset.column_names:
        return dataset

    def add(batch):
        names = batch["rel_path"] if "rel_path" in batch else [Path(p).name for p in batch["path"]]
        batch["audio"] = [{"bytes": Path(p).read_bytes(), "path": n} for p, n in zip(batch["path"], names)]
        return batch

    with_audio = dataset.map(add, batched=True, batch_size=64, remove_columns=["path"], desc="embedding audio")
    return with_audio.cast_column("audio", datasets.Audio(decode=False))


def push_dataset(
    dataset: datasets.Dataset,
    repo_id: str,
    *,
    corpus: str,
    force: bool = False,
    private: bool = True,
    token: str | None = None,
    max_retries: int = 3,
    backoff_s: float = 2.0,
) -> str:
    """Push ``dataset`` (canonical clip schema) to a dataset repository as parquet shards.

    Args:
        dataset: output of ``hf_ser.corpora.load_corpus`` (or the audio store's filtered copy).
        repo_id: ``org/name`` of the dataset repository.
        corpus: registry name; its licence decides whether the push is allowed.
        force: push even if the corpus is not marked redistributable.
        private: create the repository private (default, to be safe with licensed data).
        token: Hub token; default ``HF_TOKEN`` or the saved login.
        max_retries: retries of each network step on transient failures.
        backoff_s: first retry delay; doubles each retry.

    Returns:
        The dataset repository URL.

    Raises:
        RedistributionError: the corpus may not be redistributed and ``force`` is false.
        HubPushError: the push failed (message without the token).
    """
    licence = check_redistributable(corpus, force=force)
    token = resolve_token(token)
    table = _with_audio_bytes(dataset)
    payloads: dict[str, bytes] = {}
    n_shards = max(1, -(-len(table) // SHARD_ROWS))
    for i in range(n_shards):
        buffer = io.BytesIO()
        table.shard(num_shards=n_shards, index=i, contiguous=True).to_parquet(buffer)
        payloads[f"data/train-{i:05d}-of-{n_shards:05d}.parquet"] = buffer.getvalue()
    payloads["README.md"] = (
        f"---\nlicense: other\ntags:\n- speech-emotion-recognition\n- hf_ser\n---\n\n# {corpus}\n\n"
        f"{len(table)} clips of `{corpus}` prepared by hf_ser (canonical clip schema, original audio bytes).\n\n"
        f"Corpus licence: {licence}. Use of this copy is bound by it.\n"
    ).encode()

    api = HfApi(token=token)
    retry = {"token": token, "max_retries": max_retries, "backoff_s": backoff_s}
    url = with_retries(
        lambda: api.create_repo(repo_id, private=private, exist_ok=True, repo_type="dataset"),
        what=f"creating dataset repository {repo_id}",
        **retry,
    )
    with_retries(
        lambda: api.create_commit(
            repo_id,
            repo_type="dataset",
            operations=[CommitOperationAdd(path_in_repo=p, path_or_fileobj=d) for p, d in payloads.items()],
            commit_message=f"hf_ser: upload {corpus}",
        ),
        what=f"uploading {corpus} to {repo_id}",
        **retry,
    )
    return str(url)
