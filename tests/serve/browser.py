"""A headless Debian Chromium driven over the DevTools protocol (a websocket), for the page test.

No playwright / selenium download: ``chromium --headless --remote-debugging-port=0`` writes its port to
``DevToolsActivePort`` in its profile folder; a page target is opened over HTTP and driven with JSON messages.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One browser tab: ``call(method, **params)`` sends a DevTools command and returns its result."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._id = 0

    def call(self, method: str, timeout_s: float = 60.0, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 60.0) -> Any:
        """Poll ``expression`` until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still falsy after {timeout_s} s: {expression}")
            time.sleep(0.1)

    def set_files(self, selector: str, paths: list[Path]) -> None:
        """Choose files in an ``<input type=file>`` as a user would (fires its change event)."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", files=[str(p) for p in paths], nodeId=node)

    def screenshot(self, width: int = 820, height: int = 600) -> bytes:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])


@contextlib.contextmanager
def chromium_page(url: str, profile: Path, timeout_s: float = 60.0) -> Iterator[Page]:
    """A headless Chromium with one tab on ``url``; the browser is stopped when the block ends."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install -y chromium)")
    profile.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    from websockets.sync.client import connect

    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not (port_file.is_file() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        target = httpx.put(f"http://127.0.0.1:{port}/json/new?{url}", timeout=30).json()
        with connect(target["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=30) as ws:
            page = Page(ws)
            page.call("Page.enable")
            page.wait_for("document.readyState === 'complete' && location.href.startsWith('http')", timeout_s)
            yield page
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(20)
