"""Install hf_ser as a pip user would and train one step with it (what CI runs after ``make test``).

    python3 scripts/check_plain_install.py [--keep]

A fresh virtualenv (``python -m venv``), then ``pip install .`` of a clean copy of this checkout (as of a fresh
clone: no ``build/`` left by an earlier build, whose stale files setuptools would package) without
``requirements.lock``: pip resolves ``pyproject.toml``'s own pins, as for any user. Then, in that environment
and outside the checkout: import hf_ser together with torchaudio (the pair that fails when torch and
torchaudio drift apart) and run ONE optimizer step of the demo recipe on the demo data shipped in the
installed package.

pip's cache (``PIP_CACHE_DIR``, default ``~/.cache/pip``) is used as by any pip install, so a warm cache
downloads nothing; ``--no-compile`` skips writing ``.pyc`` files for the ~5 GB of torch and CUDA wheels
(Python compiles what it imports anyway), which changes nothing that is resolved or run. Most of the time
goes into unpacking those wheels and deleting them afterwards. Prints the seconds each phase took; exit
status 1 when a phase fails. The only imports are the standard library's, so any python3 (3.10-3.12) runs it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "recipes" / "demo" / "ravdess_tiny.yaml"
# What a fresh clone does not have (.gitignore's build and run outputs, the git folder itself).
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "runs", "wandb", ".*_cache", ".cache")

# Run inside the new environment: the installed hf_ser (not this checkout) with torchaudio, then one step.
STEP = """
import sys
from pathlib import Path

import torch, torchaudio, transformers, accelerate
import hf_ser
from hf_ser.train import main

venv = Path(sys.prefix).resolve()
assert Path(hf_ser.__file__).resolve().is_relative_to(venv), f"hf_ser imported from {hf_ser.__file__}, not {venv}"
print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, transformers {transformers.__version__}, "
      f"accelerate {accelerate.__version__}, hf_ser from {hf_ser.__file__}")
demo = Path(hf_ser.__file__).parent / "demo_data" / "ravdess"
recipe, out = sys.argv[1], sys.argv[2]
sys.exit(main([recipe, f"train.output_dir={out}", f"data.corpora.0.root={demo}", "data.eval_corpora=[]",
               "train.max_steps=1", "train.batch_size=4", "tracking.report_to=[]"]))
"""


def _phase(name: str, command: list[str], timings: dict[str, float], **kwargs) -> None:
    print(f"[check_plain_install] {name}: {' '.join(map(str, command))}", flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    timings[name] = time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (virtualenv, run) and print it")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hf_ser_plain_install_"))
    venv = work / "venv"
    python = venv / "bin" / "python"
    # The step runs outside the checkout, with nothing of the developer's environment on the import path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", WANDB_MODE="offline",
               OMP_NUM_THREADS="1", HF_SER_CACHE=str(work / "cache"))
    timings: dict[str, float] = {}
    try:
        _phase("venv", [sys.executable, "-m", "venv", str(venv)], timings)
        source = work / "src"
        shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
        _phase("pip install .", [str(python), "-m", "pip", "install", "--quiet", "--no-compile", "."], timings,
               env=env, cwd=source)
        _phase("import + one training step", [str(python), "-c", STEP, str(RECIPE), str(work / "run")], timings,
               env=env, cwd=work)
    except subprocess.CalledProcessError as e:
        print(f"[check_plain_install] FAILED: {' '.join(map(str, e.cmd))[:300]} exited {e.returncode}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"[check_plain_install] kept {work}")
        else:
            start = time.perf_counter()
            shutil.rmtree(work, ignore_errors=True)
            timings["clean-up"] = time.perf_counter() - start
    for name, seconds in timings.items():
        print(f"[check_plain_install] {name}: {seconds:.0f} s")
    print(f"[check_plain_install] total: {sum(timings.values()):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
