"""Push a finished run to the Hugging Face Hub: weights, code, evaluation files and a model card, in one commit.

The trainer calls :func:`push_run` from the main process only when ``push_to_hub: true``; ``hf-ser push``
calls it for a run directory on disk. Nothing in the run directory is changed, whatever happens.

Publishing is deliberate: :func:`plan_push` builds exactly the bytes a push would upload (``hf-ser push
--dry-run`` prints them, with no token and no network); per-clip manifests and speaker lists stay out unless
``include_manifests`` (``hf_ser.hub.public``); symbolic links are never followed; every text file is scrubbed of
local paths. :func:`check_hub_access` checks the token and the network once, before any work, without retries.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from hf_ser.errors import UserError
from hf_ser.hub.auth import resolve_token, scrub
from hf_ser.hub.card import load_run_summary, render_model_card
from hf_ser.hub.paths import local_path_placeholders, local_paths_left, scrub_payloads
from hf_ser.hub.public import check_manifests_publishable, public_data_report, public_metrics
from hf_ser.run_dir import (
    AGGREGATE_JSON,
    AGGREGATE_MD,
    CURVES_FILE,
    DATA_REPORT_FILE,
    MANIFESTS_DIR,
    METRICS_FILE,
    RECIPE_FILE,
    RUN_INFO_FILE,
    SPLIT_FILE,
    find_model,
    run_file,
)
from hf_ser.stock_export import pushed_model_form

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Run files uploaded under eval/ (besides confusion_*.png), when present.
_EVAL_FILES = (METRICS_FILE, RUN_INFO_FILE, DATA_REPORT_FILE, AGGREGATE_JSON, AGGREGATE_MD, CURVES_FILE)


class HubPushError(UserError, RuntimeError):
    """A push failed or cannot start; the message says why and never contains the token. The run is intact."""


@dataclass
class PushPlan:
    """What a push uploads: every repository path with the exact bytes, and what was left out and why."""

    run_dir: Path
    repo_id: str
    payloads: dict[str, bytes]  # path in the repository -> content, README.md (the card) included
    sources: dict[str, Path]  # path in the repository -> the local file it comes from (not the card)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (local path relative to the run, why)

    @property
    def card(self) -> str:
        return self.payloads["README.md"].decode("utf-8")

    def describe(self) -> str:
        """The dry-run listing: each file with its size, what stays local, then the card."""
        width = max(len(p) for p in self.payloads)
        lines = [f"hf-ser push --dry-run: {len(self.payloads)} files would go to {self.repo_id} "
                 f"({sum(map(len, self.payloads.values()))} bytes); nothing was sent", ""]
        lines += [f"  {path:<{width}}  {len(data):>10} bytes" for path, data in sorted(self.payloads.items())]
        if self.left_out:
            lines += ["", "Not uploaded:"] + [f"  {path}: {why}" for path, why in self.left_out]
        lines += ["", "README.md (the model card):", "", self.card]
        return "\n".join(lines)


# Run files that name clips or speakers: uploaded only with include_manifests.
_AGGREGATED = {METRICS_FILE: public_metrics, DATA_REPORT_FILE: public_data_report}
_MANIFESTS_WHY = "per-clip manifest (clip IDs, speakers, labels): pushed only with --include-manifests"


def _linked(path: Path, top: Path) -> bool:
    """Whether ``path`` or a folder between it and ``top`` is a symbolic link (a push never follows one)."""
    if path.is_symlink():
        return True
    part = path.parent
    while part != top and top in part.parents:
        if part.is_symlink():
            return True
        part = part.parent
    return False


def _collect(run_dir: Path, include_manifests: bool) -> tuple[dict[str, Path], list[tuple[str, str]]]:
    top = run_dir.parent if run_dir.name.startswith("fold_") else run_dir
    model_dir, _ = find_model(run_dir)
    files: dict[str, Path] = {}
    left_out: list[tuple[str, str]] = []

    def add(repo_path: str, local: Path) -> None:
        if _linked(local, top):
            left_out.append((os.path.relpath(local, top), "symbolic link: a push never follows links"))
        elif local.is_file():
            files[repo_path] = local

    if _linked(model_dir, top):
        raise HubPushError(f"{model_dir} is a symbolic link: a push never follows links; copy the model folder into the run")
    for folder, dirs, names in os.walk(model_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for d in [d for d in dirs if (Path(folder) / d).is_symlink()]:
            dirs.remove(d)
            left_out.append((os.path.relpath(Path(folder) / d, top), "symbolic link: a push never follows links"))
        for name in sorted(names):
            path = Path(folder) / name
            add(path.relative_to(model_dir).as_posix(), path)
    add(RECIPE_FILE, run_file(run_dir, RECIPE_FILE))
    for name in _EVAL_FILES:
        # A fold directory pushed alone takes the run-level files (recipe, run_info, ...) from its parent.
        add(f"eval/{name}", run_dir / name if name in (METRICS_FILE, CURVES_FILE) else run_file(run_dir, name))
    for png in sorted(run_dir.glob("confusion_*.png")) + sorted(run_dir.glob("reliability_*.png")):
        add(f"eval/{png.name}", png)
    manifests = sorted(run_dir.glob(f"{MANIFESTS_DIR}/*.jsonl")) + sorted(run_dir.glob(f"{MANIFESTS_DIR}/{SPLIT_FILE}"))
    for fold in sorted(p for p in run_dir.glob("fold_*") if p.is_dir()):
        manifests += sorted(fold.glob(f"{MANIFESTS_DIR}/*.jsonl")) + sorted(fold.glob(f"{MANIFESTS_DIR}/{SPLIT_FILE}"))
        for path in sorted(fold.glob("confusion_*.png")) + sorted(fold.glob("reliability_*.png")) + [fold / METRICS_FILE]:
            add(f"{fold.name}/{path.relative_to(fold).as_posix()}", path)
    for path in manifests:
        repo_path = path.relative_to(run_dir).as_posix()
        if include_manifests:
            add(repo_path, path)
        else:
            left_out.append((os.path.relpath(path, top), _MANIFESTS_WHY))
    return files, left_out


def collect_run_files(run_dir: str | Path, *, include_manifests: bool = False) -> dict[str, Path]:
    """Map each path in the Hub repository to the local file uploaded there.

    The model folder (weights, ``config.json`` with ``id2label``, feature extractor, the model's own code for
    ``trust_remote_code``) goes to the repository root, so ``from_pretrained(repo_id)`` works; the resolved
    recipe next to it; evaluation files and confusion matrices under ``eval/``; per-fold metrics and
    confusions under ``fold_<k>/``; with ``include_manifests``, the split manifests under ``manifests/`` and
    ``fold_<k>/manifests/``. Checkpoints, the other folds' weights and symbolic links are never pushed.
    ``plan_push`` reduces metrics to aggregates and rewrites local paths in the text files.
    """
    return _collect(Path(run_dir), include_manifests)[0]


def plan_push(run_dir: str | Path, repo_id: str | None = None, *, include_manifests: bool = False) -> PushPlan:
    """Everything a push of ``run_dir`` would upload, built locally (no token, no network).

    Args:
        run_dir: a finished run directory (``model/`` or ``fold_<k>/model/`` present).
        repo_id: the repository the card is for; default ``<your-org>/<run name>``.
        include_manifests: also upload per-clip manifests and full metrics (refused for corpora whose
            licence restricts their annotations, see ``hf_ser.hub.public``).

    Raises:
        FileNotFoundError: ``run_dir`` holds no model.
        PublishRefusedError: ``include_manifests`` for a restricted corpus.
        HubPushError: the model folder is a link, or a pushed file would still hold a local path.
    """
    run_dir = Path(run_dir)
    repo_id = repo_id or f"<your-org>/{run_dir.resolve().name}"
    summary = load_run_summary(run_dir)
    if include_manifests:
        check_manifests_publishable((c.name, c.synthetic) for c in summary.corpora)
    files, left_out = _collect(run_dir, include_manifests)
    model_dir = find_model(run_dir)[0]
    with tempfile.TemporaryDirectory() as work:
        # The stock transformers form replaces the model folder's files when the head has one.
        form_files, form_note = pushed_model_form(model_dir, work)
        if form_files:
            files = {p: f for p, f in files.items() if model_dir not in f.parents} | form_files
        payloads = {path: local.read_bytes() for path, local in files.items()}
    # The exported files' temporary folder is gone: their source is the model folder they were made from.
    files = {p: (model_dir if p in form_files else f) for p, f in files.items()}
    if not include_manifests:
        for path in payloads:
            reduce = _AGGREGATED.get(Path(path).name)
            if reduce is not None:
                payloads[path] = json.dumps(reduce(json.loads(payloads[path])), indent=2, ensure_ascii=False).encode("utf-8")
    card = render_model_card(run_dir, repo_id, include_manifests=include_manifests)
    payloads["README.md"] = f"{card}\n\n## Model form\n\n{form_note}\n".encode()
    # Nothing local in what is pushed: corpus roots, run and cache folders become placeholders.
    placeholders = local_path_placeholders(run_dir, summary.recipe)
    payloads = scrub_payloads(payloads, placeholders)
    leaking = local_paths_left(payloads, placeholders)
    if leaking:
        raise HubPushError(f"refusing to push: these files still hold a local path after scrubbing: {leaking}")
    return PushPlan(run_dir=run_dir, repo_id=repo_id, payloads=payloads, sources=files, left_out=left_out)


def check_hub_access(token: str | None, *, timeout_s: float = 2.0) -> None:
    """Fail at once, in one line, when the Hub cannot take a push: no token, offline mode, no network, or a
    token the Hub refuses. One try each, no retries (a push that cannot start should not wait).

    Raises:
        HubPushError: naming what is missing and how to fix it.
    """
    from huggingface_hub import constants

    if not token:
        raise HubPushError("no Hub token: log in with `hf auth login` or set HF_TOKEN (hf-ser push --dry-run needs none)")
    if constants.HF_HUB_OFFLINE:
        raise HubPushError("HF_HUB_OFFLINE is set, so the Hub cannot be reached: unset it to push (hf-ser push --dry-run works offline)")
    endpoint = urlsplit(constants.ENDPOINT)
    address = (endpoint.hostname or "", endpoint.port or (443 if endpoint.scheme == "https" else 80))
    failure: list[BaseException] = []

    def connect() -> None:
        try:
            socket.create_connection(address, timeout=timeout_s).close()
        except OSError as e:
            failure.append(e)

    # Name lookup has no timeout of its own: bound the whole check from outside.
    probe = threading.Thread(target=connect, daemon=True)
    probe.start()
    probe.join(timeout_s)
    if probe.is_alive() or failure:
        why = f"{type(failure[0]).__name__}: {failure[0]}" if failure else f"no answer within {timeout_s:g} s"
        raise HubPushError(f"cannot reach the Hub at {constants.ENDPOINT} ({why}): check the network, then push again")
    try:
        HfApi(token=token).whoami()
    except Exception as e:  # 401, or the Hub answering with an error: one scrubbed line
        why = _one_line(scrub(f"{type(e).__name__}: {e}", token))
        raise HubPushError(f"the Hub refused the token ({why}): log in again with `hf auth login`") from None


def _one_line(text: str) -> str:
    """An HTTP error's text on one line (the command line prints an error as one line)."""
    return " ".join(text.split())


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
            message = _one_line(scrub(f"{type(e).__name__}: {e}", token))
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
    include_manifests: bool = False,
) -> str:
    """Create (or reuse) ``repo_id`` and upload :func:`plan_push`'s files in one commit.

    Args:
        run_dir: a finished run directory (``model/`` or ``fold_<k>/model/`` present).
        repo_id: ``org/name`` on the Hub (``HF_ENDPOINT`` picks the Hub).
        private: create the repository private (an existing repository keeps its visibility).
        token: Hub token; default ``HF_TOKEN`` or the saved ``hf auth login``.
        revision: branch to commit to (created if missing); default ``main``.
        max_retries: retries of each upload step on transient failures (not of the access check).
        backoff_s: first retry delay; doubles each retry.
        include_manifests: also upload per-clip manifests and speaker lists (see :func:`plan_push`).

    Returns:
        The repository URL (``.../tree/<revision>`` when a revision was given).

    Raises:
        FileNotFoundError: ``run_dir`` holds no model.
        PublishRefusedError: ``include_manifests`` for a corpus whose licence restricts its annotations.
        HubPushError: no token, no network, or the push failed (message without the token).
    """
    run_dir = Path(run_dir)
    find_model(run_dir)  # a folder that is not a run fails before the Hub is asked anything
    if include_manifests:
        check_manifests_publishable((c.name, c.synthetic) for c in load_run_summary(run_dir).corpora)
    token = resolve_token(token)
    check_hub_access(token)
    plan = plan_push(run_dir, repo_id, include_manifests=include_manifests)
    payloads = plan.payloads
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
