"""The command line: every argparse wrapper in hf_ser.commands, --help without torch, user errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from forked_commands import Command, run_commands

from hf_ser.commands import COMMANDS

REPO = Path(__file__).parents[1]
DEMO = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"


def _python(code: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_SER_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, *(["-c", code] if code else []), *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_answers_without_importing_torch(command, tmp_path):
    argv = [command, "--help"] if command else ["--help"]
    code = (
        "import sys\nfrom hf_ser.commands import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = _python(code, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: hf-ser" in result.stdout


def test_train_help_points_to_the_recipe_list(tmp_path):
    result = _python("", "-m", "hf_ser.cli", "train", "--help", tmp_path=tmp_path)
    assert "recipes/README.md" in result.stdout and "--debug" in result.stdout


USER_ERRORS = [
    (["-m", "hf_ser.cli", "train", str(DEMO), "data.protocol=nope"], "unknown fold protocol 'nope'", "recipe"),
    (["-m", "hf_ser.train", str(DEMO), "data.augment=[{name: noise, snrdb: 3}]"], "'snrdb'", "recipe"),
    (["-m", "hf_ser.cli", "train", "missing.yaml"], "does not exist", "check the path"),
    (["-m", "hf_ser.cli", "train", str(DEMO), "train.lr_rate=1"], "did you mean 'train.lr'?", "recipe"),
    (["-m", "hf_ser.train", str(DEMO), "model.pooling_kwargs={eps:"], "not valid YAML", "recipe"),
    (["-m", "hf_ser.cli", "corpora", "inspect", "ravdess", "no/such/folder"], "does not exist", "corpora inspect"),
]
DEBUG = ["-m", "hf_ser.cli", "train", str(DEMO), "data.protocol=nope", "--debug"]


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """Each command line of USER_ERRORS and DEBUG, run once (forked from one preloaded interpreter), by argv;
    each with its own empty HF_SER_CACHE."""
    runs = [argv for argv, _, _ in USER_ERRORS] + [DEBUG]
    caches = [tmp_path_factory.mktemp("refused") / "cache" for _ in runs]
    commands = [
        Command(argv[1], tuple(argv[2:]), {**os.environ, "HF_SER_CACHE": str(cache), "OMP_NUM_THREADS": "1"})
        for argv, cache in zip(runs, caches)
    ]
    return {tuple(argv): (result, cache) for argv, result, cache in zip(runs, run_commands(commands), caches)}


@pytest.mark.parametrize("argv, message, fix", USER_ERRORS)
def test_user_errors_are_one_line_plus_the_fix(argv, message, fix, refused):
    result, cache = refused[tuple(argv)]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if ": error: " in line or ": fix: " in line]
    assert len(lines) == 2 and message in lines[0] and fix in lines[1], result.stderr
    assert not cache.exists()  # refused before any audio store was written


def test_debug_keeps_the_traceback(refused):
    result, _ = refused[tuple(DEBUG)]
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "RecipeError" in result.stderr
