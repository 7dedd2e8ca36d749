import json
import os
import sys
import zlib
from pathlib import Path

import pytest

# Tests never reach the network: fail fast instead of timing out on the Hub, keep wandb local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Make the fixture helpers importable as `from audio_fixtures import write_wav` from any test folder.
sys.path.insert(0, str(Path(__file__).parent))

# ------------------------------------------------------------------------------ slowest files first
# `make test` runs files on two workers (pytest-xdist --dist loadfile), which take the next file when done. Files
# are queued by their last measured seconds, longest first, so that no long file starts last while the other
# worker idles (xdist's own order, by number of tests, put the few-test training files at the end). Each test's
# seconds are kept in pytest's cache (.pytest_cache); a test not measured yet counts UNMEASURED_S, so a first
# run orders files by their number of tests, as xdist would.
SECONDS_KEY = "hf_ser/test_seconds"
# A checkout with no cache (CI's) orders files by FILE_SECONDS, a full run's per-file seconds; refresh it after a
# `make test` with `python tests/conftest.py` (only the order depends on it).
FILE_SECONDS = Path(__file__).parent / "file_seconds.json"
UNMEASURED_S = 1.0
_seconds: dict[str, float] = {}  # this run's seconds per test (setup + call + teardown)


def pytest_configure(config):
    if getattr(config.option, "loadscopereorder", None) is not None:
        config.option.loadscopereorder = False  # keep the order below (xdist would re-sort by number of tests)


def pytest_collection_modifyitems(config, items):
    _REAL_PLOTS.update(item.nodeid for item in items if item.get_closest_marker("real_plots"))
    if not hasattr(config, "workerinput") or getattr(config, "cache", None) is None:
        return  # only the xdist workers' collection sets the queue; a run without workers keeps pytest's order
    measured = config.cache.get(SECONDS_KEY, {})
    per_file: dict[str, float] = {}
    for item in items:
        file = item.nodeid.split("::")[0]
        per_file[file] = per_file.get(file, 0.0) + measured.get(item.nodeid, UNMEASURED_S)
    if not measured:  # a fresh checkout (CI): the per-file seconds of a full run kept in the repository
        shipped = json.loads(FILE_SECONDS.read_text()) if FILE_SECONDS.is_file() else {}
        per_file = {file: shipped.get(file, seconds) for file, seconds in per_file.items()}
    items.sort(key=lambda item: -per_file[item.nodeid.split("::")[0]])  # stable: a file's tests keep their order


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    config = session.config
    if hasattr(config, "workerinput") or getattr(config, "cache", None) is None or not _seconds:
        return  # the controller (or a run without workers) writes what every worker reported
    config.cache.set(SECONDS_KEY, {**config.cache.get(SECONDS_KEY, {}), **_seconds})


# ------------------------------------------------------------------------------ figures built, PNGs rendered where tested
# Rasterising a figure (matplotlib's Agg draw and the PNG encoding) takes about 0.2 s, and the suite's in-process
# training runs and reports write some 600 PNGs: a third of the suite's CPU time. Outside the tests marked
# `real_plots` (the plotting tests, the run-directory contract, the report and --plot tests), every figure is still
# built by the product's own code and written where the product writes it, by the product's call, but as a valid
# 1x1 PNG instead of its rendering. Subprocess runs (the launcher and kill/resume tests) render as users' runs do.
_REAL_PLOTS: set[str] = set()


def _tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])  # 1x1, 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff")) + chunk(b"IEND", b"")


@pytest.fixture(scope="session", autouse=True)
def _figures_rendered_only_where_tested():
    from hf_ser.evaluation import plots

    render, placeholder = plots._save, _tiny_png()

    def save(fig, path):
        current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        if current in _REAL_PLOTS:
            return render(fig, path)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(placeholder)
        return path

    plots._save = save
    yield
    plots._save = render


if __name__ == "__main__":  # python tests/conftest.py: FILE_SECONDS from the last run's measured seconds
    cache = Path(__file__).parents[1] / ".pytest_cache" / "v" / SECONDS_KEY
    per_test = json.loads(cache.read_text())
    totals: dict[str, float] = {}
    for nodeid, seconds in per_test.items():
        totals[nodeid.split("::")[0]] = totals.get(nodeid.split("::")[0], 0.0) + seconds
    FILE_SECONDS.write_text(json.dumps({f: round(t, 1) for f, t in sorted(totals.items())}, indent=0) + "\n")
    print(f"wrote {FILE_SECONDS.name}: {len(totals)} files, {sum(totals.values()):.0f} s")  # noqa: T201
