"""Fixtures for the Hub tests: a fake Hub on 127.0.0.1 that huggingface_hub talks to in this process."""

from __future__ import annotations

import pytest
from hub.fake_hub import FakeHub


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """A running :class:`FakeHub`; huggingface_hub in this process points at it, online, without xet."""
    from huggingface_hub import constants

    with FakeHub(max_lifetime_s=120) as hub:
        # constants are read at import time from the environment: patch the module values directly.
        monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # never read a real saved login
        monkeypatch.delenv("HF_TOKEN", raising=False)
        yield hub
