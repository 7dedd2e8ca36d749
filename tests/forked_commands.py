"""Run several `python -m MODULE ARGS...` command lines for the price of one interpreter start.

One subprocess imports the heavy libraries once (torch, transformers, datasets, hf_ser's models and corpora: ~10 s
on a busy 2-core box), then forks one child per command line. Each child is a process of its own, as
`python -m` would start it: its own argv, environment, working folder, exit status, stdout and stderr (file
descriptors 1 and 2, so the logging handlers and the interpreter's own messages are captured too), and an
uncaught exception prints its traceback and exits 1. Use it only where a test is about what a command does,
never about what a fresh interpreter has imported (those tests need `subprocess.run` of their own).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).parents[1]

# What every hf_ser command line imports before it can refuse or run anything.
PRELOAD = ("torch", "transformers", "datasets", "hf_ser.models", "hf_ser.corpora", "hf_ser.config")

_CHILD = r"""
import importlib, json, os, runpy, sys, traceback

for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
for case in json.loads(sys.stdin.read()):
    pid = os.fork()
    if pid == 0:
        out = os.open(case["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(case["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.environ.clear()
        os.environ.update(case["env"])
        os.chdir(case["cwd"])
        code = 0
        try:
            sys.modules.pop(case["module"], None)  # run as __main__, as `python -m` does
            sys.argv = [case["module"], *case["args"]]
            runpy.run_module(case["module"], run_name="__main__", alter_sys=True)
        except SystemExit as stop:  # the interpreter's own rules for SystemExit's argument
            if stop.code is None:
                code = 0
            elif isinstance(stop.code, int):
                code = stop.code
            else:
                print(stop.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(json.dumps(os.waitstatus_to_exitcode(status)), flush=True)
"""


@dataclass(frozen=True)
class Command:
    """One `python -m module *args` run in ``cwd`` with environment ``env``."""

    module: str
    args: tuple[str, ...]
    env: dict
    cwd: Path = REPO


def run_commands(
    commands: list[Command], *, env: dict | None = None, timeout: float = 600
) -> list[subprocess.CompletedProcess]:
    """Run ``commands`` one after the other, each in a child forked from one preloaded interpreter; results in
    order, with the same fields `subprocess.run(..., capture_output=True, text=True)` gives. ``env`` (default:
    this process's) is the preloading interpreter's environment: what is read at interpreter start or at import
    (PYTHONHASHSEED, HF_MODULES_CACHE) comes from it, not from a command's own ``env``."""
    with tempfile.TemporaryDirectory(prefix="forked-commands-") as tmp:
        cases = [
            {
                "module": c.module, "args": list(c.args), "env": {k: str(v) for k, v in c.env.items()},
                "cwd": str(c.cwd), "stdout": f"{tmp}/{i}.out", "stderr": f"{tmp}/{i}.err",
            }
            for i, c in enumerate(commands)
        ]
        parent = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(PRELOAD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=REPO, start_new_session=True,
            env={**(os.environ if env is None else env), "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        )
        try:
            out, err = parent.communicate(json.dumps(cases), timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(parent.pid, signal.SIGKILL)  # the preloading interpreter and the child it is waiting on
            parent.communicate()
            raise
        codes = [json.loads(line) for line in out.splitlines()]
        assert parent.returncode == 0 and len(codes) == len(commands), err[-3000:]
        return [
            subprocess.CompletedProcess(
                [sys.executable, "-m", c.module, *c.args], code,
                Path(case["stdout"]).read_text(), Path(case["stderr"]).read_text(),
            )
            for c, case, code in zip(commands, cases, codes)
        ]
