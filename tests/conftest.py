import os
import sys
from pathlib import Path

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
UNMEASURED_S = 1.0
_seconds: dict[str, float] = {}  # this run's seconds per test (setup + call + teardown)


def pytest_configure(config):
    if getattr(config.option, "loadscopereorder", None) is not None:
        config.option.loadscopereorder = False  # keep the order below (xdist would re-sort by number of tests)


def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput") or getattr(config, "cache", None) is None:
        return  # only the xdist workers' collection sets the queue; a run without workers keeps pytest's order
    measured = config.cache.get(SECONDS_KEY, {})
    per_file: dict[str, float] = {}
    for item in items:
        file = item.nodeid.split("::")[0]
        per_file[file] = per_file.get(file, 0.0) + measured.get(item.nodeid, UNMEASURED_S)
    items.sort(key=lambda item: -per_file[item.nodeid.split("::")[0]])  # stable: a file's tests keep their order


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    config = session.config
    if hasattr(config, "workerinput") or getattr(config, "cache", None) is None or not _seconds:
        return  # the controller (or a run without workers) writes what every worker reported
    config.cache.set(SECONDS_KEY, {**config.cache.get(SECONDS_KEY, {}), **_seconds})
