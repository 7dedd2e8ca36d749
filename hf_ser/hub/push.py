"""Push a finished run to the Hugging Face Hub: weights, code, evaluation files and a model card, in one commit.

The trainer calls :func:`push_run` from the main process only when ``push_to_hub: true``; ``hf-ser push``
calls it for a run directory on disk. Nothing in the run directory is changed, whatever happens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hf_ser.hub.auth import resolve_token, scrub
from hf_ser.hub.card import load_run_summary, render_model_card
from hf_ser.hub.paths import local_path_placeholders, scrub_payloads
from hf_ser.run_dir import (
    AGGREGATE_JSON,
    AGGREGATE_MD,
    CURVES_FILE,
    DATA_REPORT_FILE,
    MANIFESTS_DIR,
    METRICS_FILE,
    RECIPE_FILE,
    RUN_INFO_FILE,
    find_model,
    run_file,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Run files uploaded under eval/ (besides confusion_*.png), when present.
_EVAL_FILES = (METRICS_FILE, RUN_INFO_FILE, DATA_REPORT_FILE, AGGREGATE_JSON, AGGREGATE_MD, CURVES_FILE)


class HubPushError(RuntimeError):
    """A push failed; the message says why and never contains the token."""


def collect_run_files(run_dir: str | Path) -> dict[str, Path]:
    """Map each path in the Hub repository to the local file uploaded there.

    The model folder (weights, ``config.json`` with ``id2label``, feature extractor, the model's own code for
    ``trust_remote_code``) goes to the repository root, so ``from_pretrained(repo_id)`` works; the resolved
    recipe next to it; evaluation files and confusion matrices under ``eval/``; split manifests under
    ``manifests/`` and ``fold_<k>/manifests/``. Checkpoints and the other folds' weights are not pushed.
    ``push_run`` rewrites absolute local paths in the text files (``hf_ser.hub.paths``).
    """
    run_dir = Path(run_dir)
    model_dir, _ = find_model(run_dir)
    files: dict[str, Path] = {}
    for path in sorted(model_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(model_dir).as_posix()] = path
    if run_file(run_dir, RECIPE_FILE).is_file():
        files[RECIPE_FILE] = run_file(run_dir, RECIPE_FILE)
    for name in _EVAL_FILES:
        # A fold directory pushed alone takes the run-level files (recipe, run_info, ...) from its parent.
        path = run_dir / name if name in (METRICS_FILE, CURVES_FILE) else run_file(run_dir, name)
        if path.is_file():
            files[f"eval/{name}"] = path
    for png in sorted(run_dir.glob("confusion_*.png")):
        files[f"eval/{png.name}"] = png
    for manifest in sorted(run_dir.glob(f"{MANIFESTS_DIR}/*.jsonl")):
        files[f"{MANIFESTS_DIR}/{manifest.name}"] = manifest
    for fold in sorted(p for p in run_dir.glob("fold_*") if p.is_dir()):
        for path in sorted(fold.glob(f"{MANIFESTS_DIR}/*.jsonl")) + sorted(fold.glob("confusion_*.png")):
            files[f"{fold.name}/{path.relative_to(fold).as_posix()}"] = path
        if (fold / METRICS_FILE).is_file():
            files[f"{fold.name}/{METRICS_FILE}"] = fold / METRICS_FILE
    return files


def _is_transient(error: BaseException) -> bool:
    """Network trouble and server-side errors are worth retrying; auth, 4xx and local errors are not."""
    if isinstance(error, HfHubHTTPError):
        status = getattr(error.response, "status_code", None)
        return status is None or status >= 500 or status == 429
    module = type(error).__module__ or ""
    if module.split(".")[0] in ("httpx", "httpx2", "httpcore", "httpcore2", "requests", "urllib3"):
        return True
    return isinstance(error, (ConnectionError, TimeoutError))


def with_retries(
    call: Callable[[], T], *, what: str, token: str | None, max_retries: int = 3, backoff_s: float = 2.0
) -> T:
    """Run ``call``, retrying transient failures with exponential backoff.

    Raises:
        HubPushError: after ``max_retries`` retries, or at once for a non-transient error; the message is
            scrubbed of the token and the original exception is not chained (its text may hold it).
    """
    for attempt in range(max_retries + 1):
        try:
            return call()
        except Exception as e:  # classified below; anything else re-raised scrubbed
            message = scrub(f"{type(e).__name__}: {e}", token)
            if not _is_transient(e):
                raise HubPushError(f"{what} failed: {message}") from None
            if attempt == max_retries:
                raise HubPushError(
                    f"{what} failed after {max_retries + 1} attempts (network or server error): {message}. "
                    "The local run is intact; run `hf-ser push` again when the Hub is reachable."
                ) from None
            delay = backoff_s * 2**attempt
            logger.warning("%s failed (%s); retry %d/%d in %.1fs", what, message, attempt + 1, max_retries, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def _check_no_token(payloads: dict[str, bytes], token: str | None) -> None:
    if not token:
        return
    leaking = [path for path, data in payloads.items() if token.encode() in data]
    if leaking:
        raise HubPushError(f"refusing to push: these files contain the Hub token: {leaking}")


def push_run(
    run_dir: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    token: str | None = None,
    revision: str | None = None,
    max_retries: int = 3,
    backoff_s: float = 2.0,
) -> str:
    """Create (or reuse) ``repo_id`` and upload the run with a model card, in one commit.

    Args:
        run_dir: a finished run directory (``model/`` or ``fold_<k>/model/`` present).
        repo_id: ``org/name`` on the Hub (``HF_ENDPOINT`` picks the Hub).
        private: create the repository private (an existing repository keeps its visibility).
        token: Hub token; default ``HF_TOKEN`` or the saved ``hf auth login``.
        revision: branch to commit to (created if missing); default ``main``.
        max_retries: retries of each network step on transient failures.
        backoff_s: first retry delay; doubles each retry.

    Returns:
        The repository URL (``.../tree/<revision>`` when a revision was given).

    Raises:
        FileNotFoundError: ``run_dir`` holds no model.
        HubPushError: the push failed (message without the token).
    """
    run_dir = Path(run_dir)
    token = resolve_token(token)
    files = collect_run_files(run_dir)
    card = render_model_card(run_dir, repo_id)
    payloads = {path: local.read_bytes() for path, local in files.items()}
    payloads["README.md"] = str(card).encode("utf-8")
    # Nothing local in what is pushed: corpus roots, run and cache folders become placeholders.
    payloads = scrub_payloads(payloads, local_path_placeholders(run_dir, load_run_summary(run_dir).recipe))
    _check_no_token(payloads, token)

    api = HfApi(token=token)
    retry = {"token": token, "max_retries": max_retries, "backoff_s": backoff_s}
    repo_url = with_retries(
        lambda: api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model"),
        what=f"creating repository {repo_id}",
        **retry,
    )
    if revision and revision != "main":
        with_retries(
            lambda: api.create_branch(repo_id, branch=revision, exist_ok=True),
            what=f"creating branch {revision}",
            **retry,
        )

    def commit():
        # Operations are mutated by a commit attempt: build fresh ones for each try.
        operations = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=data) for p, data in payloads.items()]
        return api.create_commit(
            repo_id, operations=operations, commit_message=f"hf_ser: upload run {run_dir.name}", revision=revision
        )

    logger.info("pushing %d files of %s to %s", len(payloads), run_dir, repo_id)
    info = with_retries(commit, what=f"uploading {run_dir} to {repo_id}", **retry)
    url = str(repo_url).rstrip("/")
    if revision:
        url = f"{url}/tree/{revision}"
    logger.info("pushed %s (commit %s)", url, getattr(info, "oid", "?"))
    return url
