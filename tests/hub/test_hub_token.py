"""The Hub token reaches the Hub's Authorization header and nothing else: no file, card, log or body."""

from __future__ import annotations

import json
import logging

import pytest
from hub.tiny_run import write_run_dir

from hf_ser.hub import HubPushError, push_run
from hf_ser.hub.auth import REDACTED, scrub

UPLOAD_STEPS = r"^/api/repos/create|/preupload/|/commit/"
TOKEN = "hf_SecretTokenZyxwvutsrqponmlkjihgfedcba98"


def test_token_never_written_logged_or_sent_in_bodies(fake_hub, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the usual way to provide it
    run = write_run_dir(tmp_path / "run_tok", folds=2)
    with caplog.at_level(logging.DEBUG):
        push_run(run, "org/tok")

    # It was really used: the server saw it, in the Authorization header only.
    assert f"Bearer {TOKEN}" in fake_hub.authorizations
    for request in fake_hub.requests:
        assert TOKEN.encode() not in request.body, request.path
        assert TOKEN not in request.path
        assert all(TOKEN not in v for v in request.headers.values()), request.path
    for path in run.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    repo = fake_hub.repo("org/tok")
    assert "README.md" in repo.head.files
    for name, content in repo.head.files.items():
        assert TOKEN.encode() not in content, name
    assert TOKEN not in caplog.text
    assert "org/tok" in caplog.text  # the log did record the push


def test_failure_messages_are_scrubbed(fake_hub, tmp_path):
    run = write_run_dir(tmp_path / "run_fail")
    fake_hub.fail_paths = UPLOAD_STEPS
    fake_hub.fail_first = 10_000
    with pytest.raises(HubPushError) as excinfo:
        push_run(run, "org/fail", token=TOKEN, max_retries=0)
    assert TOKEN not in str(excinfo.value)


def test_file_holding_the_token_is_refused(fake_hub, tmp_path):
    run = write_run_dir(tmp_path / "run_leak")
    (run / "run_info.json").write_text(json.dumps({"oops": TOKEN}))
    with pytest.raises(HubPushError, match="eval/run_info.json") as excinfo:
        push_run(run, "org/leak", token=TOKEN)
    assert TOKEN not in str(excinfo.value)
    assert not any(r.path.startswith("/api/repos/create") for r in fake_hub.requests)


def test_scrub_removes_token_shapes():
    text = f"401 for token {TOKEN}, header Authorization: Bearer abc.def, other hf_{'x' * 30}"
    cleaned = scrub(text, TOKEN)
    assert TOKEN not in cleaned and "abc.def" not in cleaned and "hf_xxx" not in cleaned
    assert cleaned.count(REDACTED) == 3
