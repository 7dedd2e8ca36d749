"""The page at `/` in a real headless Chromium: upload a WAV through the file input, read the rendered label.

Set HF_SER_PAGE_SCREENSHOT=FILE.png to also save what the browser shows (docs/serve_page.png was made so)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hub.tiny_run import LABELS, write_tiny_model
from serve.browser import chromium_page, find_chromium

import hf_ser
from hf_ser.serve import ServeSettings, create_app, running_server

# .ci/run installs chromium and sets HF_SER_REQUIRE_CHROMIUM=1, so CI fails rather than skips without it.
pytestmark = pytest.mark.skipif(
    find_chromium() is None and not os.environ.get("HF_SER_REQUIRE_CHROMIUM"),
    reason="chromium not installed (Debian: apt-get install -y chromium; .ci/run installs it)",
)


def _speech_like(path: Path, seconds: float = 3.0) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * 16_000)) / 16_000
    wave = 0.3 * np.sin(2 * np.pi * (180 + 40 * np.sin(2 * np.pi * 3 * t)) * t) + 0.02 * rng.standard_normal(len(t))
    sf.write(path, wave.astype(np.float32), 16_000, subtype="PCM_16")
    return path


def test_upload_a_wav_through_the_page_and_read_the_label(tmp_path):
    model_dir = Path(os.environ.get("HF_SER_PAGE_MODEL") or write_tiny_model(tmp_path / "model"))
    model = hf_ser.load(model_dir, device="cpu")
    wav = _speech_like(tmp_path / "speech.wav")
    expected = model.predict(wav)
    with running_server(create_app(model, source=model_dir, settings=ServeSettings())) as url:
        with chromium_page(url, tmp_path / "profile") as page:
            page.wait_for("document.getElementById('model').textContent.includes('classes')")
            page.set_files("#file", [wav])
            label = page.wait_for("document.getElementById('label').textContent")
            bars = page.evaluate("document.querySelectorAll('#probs .bar').length")
            status = page.evaluate("document.getElementById('status').textContent")
            timeline = page.evaluate("document.querySelectorAll('#timeline .seg').length")
            png = page.screenshot()
    assert label == expected.label
    assert bars == len(model.labels) and "speech.wav" in status
    assert timeline == len(expected.segments)  # windows of long audio: none for this 3-s clip and a 20-s window
    assert png.startswith(b"\x89PNG")
    if os.environ.get("HF_SER_PAGE_SCREENSHOT"):
        Path(os.environ["HF_SER_PAGE_SCREENSHOT"]).write_bytes(png)
    if "HF_SER_PAGE_MODEL" not in os.environ:
        assert model.labels == LABELS
