"""Atomic, durable writes: the one way hf_ser publishes a file or a folder.

A reader (a resumed run, ``hf-ser evaluate``, the push) sees either the old content or the new one, never half
of either, and what was published survives a power cut: everything is written under a temporary name in the
same folder, fsync'ed, renamed into place, and the folder itself is fsync'ed so the rename is on disk too.
A folder being replaced (the saved model, a checkpoint) is removed only after its replacement is in place.

This module imports nothing of hf_ser, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

TMP_PREFIX = ".tmp-"  # temporary names start with this; a crash leaves them behind and the next writer removes them


def fsync_dir(path: str | Path) -> None:
    """Flush ``path``'s directory entries (a rename or a new file in it) to disk; a no-op where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems (and Windows) refuse fsync on a directory: nothing more can be done
        pass
    finally:
        os.close(fd)


def fsync_tree(path: str | Path) -> None:
    """fsync every file below ``path`` and every folder, deepest first (what a folder rename then publishes)."""
    for dirpath, _dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames:
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                continue
            with open(full, "rb") as f:
                os.fsync(f.fileno())
        fsync_dir(dirpath)


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically and durably (temp file in the same folder, fsync, rename).

    ``durable=False`` skips the fsyncs (still atomic): for per-clip cache files, where thousands of fsyncs cost
    more than recomputing the few a power cut could leave truncated (their readers recompute unreadable ones).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; a published file follows the umask like open()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """``atomic_write_bytes`` of UTF-8 text with ``\\n`` line ends."""
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Build a folder under a temporary name next to ``target``; on success publish it as ``target``.

    Yields the temporary folder to write into. On a clean exit its files are fsync'ed and it is renamed to
    ``target``; an existing ``target`` is first renamed aside and deleted only once the new folder is in place.
    On an error the temporary folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(target.parent, target.name)
    try:
        yield tmp
        publish_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def make_temp_dir(parent: str | Path, name: str) -> Path:
    """A fresh temporary folder ``parent/.tmp-<name>-XXXX``, with the permissions the umask gives ``mkdir``.

    ``tempfile.mkdtemp`` creates folders ``0700``; published folders (caches shared by a group, run folders)
    must follow the user's umask instead.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=parent))
    os.chmod(tmp, 0o777 & ~_umask())
    return tmp


def publish_dir(tmp: str | Path, target: str | Path) -> None:
    """fsync ``tmp`` and rename it to ``target``; an existing ``target`` is removed only after the rename.

    Raises:
        OSError: the rename failed (``target`` is then untouched, or restored from its aside name).
    """
    tmp, target = Path(tmp), Path(target)
    fsync_tree(tmp)
    aside = None
    if target.exists() or target.is_symlink():
        aside = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}old-{target.name}-", dir=target.parent))
        aside.rmdir()
        os.rename(target, aside)
    try:
        os.rename(tmp, target)
    except OSError:
        if aside is not None:
            os.rename(aside, target)
        raise
    fsync_dir(target.parent)
    if aside is not None:
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink()


def remove_stale_temps(parent: str | Path, name: str) -> list[Path]:
    """Delete what a killed writer of ``name`` left in ``parent`` (``.tmp-<name>-*``); returns what went.

    Call it only while holding the lock that serialises writers of ``name``: a live writer's folder matches too.
    """
    gone = []
    for stale in Path(parent).glob(f"{TMP_PREFIX}{name}-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        gone.append(stale)
    return gone


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once (hf_ser starts no threads that create files
    # before this runs, and the value is restored in the same call).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
