"""hf_ser.fsutil: a published file or folder is whole, the old one goes only after the new one is in place."""

from __future__ import annotations

import os

import pytest

from hf_ser import fsutil


def test_atomic_write_replaces_whole_and_follows_the_umask(tmp_path):
    path = tmp_path / "sub" / "metrics.json"
    old = os.umask(0o002)
    try:
        fsutil.atomic_write_text(path, "first")
        fsutil.atomic_write_text(path, "second")
    finally:
        os.umask(old)
    assert path.read_text() == "second" and path.stat().st_mode & 0o777 == 0o664
    assert sorted(p.name for p in path.parent.iterdir()) == ["metrics.json"]


def test_a_failed_folder_write_keeps_the_old_folder_and_leaves_nothing_behind(tmp_path):
    model = tmp_path / "model"
    with fsutil.atomic_dir(model) as tmp:
        (tmp / "weights").write_text("v1")
    with pytest.raises(RuntimeError), fsutil.atomic_dir(model) as tmp:
        (tmp / "weights").write_text("half")
        raise RuntimeError("killed while saving")
    assert (model / "weights").read_text() == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_the_old_folder_is_removed_only_once_the_new_one_is_in_place(tmp_path, monkeypatch):
    model = tmp_path / "model"
    with fsutil.atomic_dir(model) as tmp:
        (tmp / "weights").write_text("v1")
    renames = []
    real_rename = os.rename

    def recording(src, dst):
        renames.append((os.path.basename(src), os.path.basename(dst), (model / "weights").exists()))
        real_rename(src, dst)

    monkeypatch.setattr(fsutil.os, "rename", recording)
    with fsutil.atomic_dir(model) as tmp:
        (tmp / "weights").write_text("v2")
    assert (model / "weights").read_text() == "v2"
    # first the old folder is set aside (it is whole until then), then the new one takes its name
    assert renames[0][0] == "model" and renames[1][1] == "model" and len(renames) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_stale_temporaries_of_a_name_are_removed_and_others_kept(tmp_path):
    (tmp_path / ".tmp-abc-1").mkdir()
    (tmp_path / ".tmp-abc-2").write_text("x")
    (tmp_path / ".tmp-abd-1").mkdir()
    gone = fsutil.remove_stale_temps(tmp_path, "abc")
    assert sorted(p.name for p in gone) == [".tmp-abc-1", ".tmp-abc-2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-abd-1"]
