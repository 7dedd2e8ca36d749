"""Install hf_ser as a pip user would and train one step with it (what CI runs after ``make test``).

    python3 scripts/check_plain_install.py [--venv DIR] [--keep] [--wheelhouse DIR]

A fresh virtualenv (``python -m venv``), ``pip install .`` from this checkout with no ``requirements.lock``
(pip resolves ``pyproject.toml``'s own pins, as for any user), then, in that environment, outside the
checkout: import hf_ser together with torchaudio (the pair that fails when torch and torchaudio drift apart)
and run ONE optimizer step of the demo recipe on the demo data shipped in the installed package.

Downloads are kept in a wheelhouse inside pip's cache folder (``<pip cache dir>/hf_ser-wheelhouse``):
``pip wheel .`` resolves against the index as ``pip install .`` would, builds hf_ser's wheel and fetches only
the wheels the wheelhouse lacks; ``pip install --no-index`` then installs hf_ser's wheel with that resolution.
(pip's own HTTP cache would do the same, but is not written behind some proxies; the wheelhouse works
everywhere.) Prints the
seconds each phase took; exit status 1 when a phase fails. The only imports are the standard library's, so
any python3 (3.10-3.12) runs it.
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
    print(f"[check_plain_install] {name}: {' '.join(command)}", flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    timings[name] = time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=None, help="virtualenv folder to create (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the virtualenv and the run afterwards")
    parser.add_argument("--wheelhouse", type=Path, default=None, help="downloaded wheels (default: in pip's cache folder)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hf_ser_plain_install_"))
    venv = args.venv or work / "venv"
    python = venv / "bin" / "python"
    # The step runs outside the checkout, with nothing of the developer's environment on the import path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", WANDB_MODE="offline",
               OMP_NUM_THREADS="1", HF_SER_CACHE=str(work / "cache"))
    timings: dict[str, float] = {}
    try:
        _phase("venv", [sys.executable, "-m", "venv", str(venv)], timings)
        pip = [str(python), "-m", "pip"]
        wheelhouse = args.wheelhouse or Path(
            subprocess.run([*pip, "cache", "dir"], check=True, capture_output=True, text=True, env=env).stdout.strip()
        ) / "hf_ser-wheelhouse"
        _phase("pip wheel . (downloads)", [*pip, "wheel", "--quiet", "-w", str(wheelhouse), str(REPO)], timings, env=env)
        # hf_ser's own wheel leaves the wheelhouse: each run installs the checkout it was built from.
        (built,) = wheelhouse.glob("hf_ser-*.whl")
        wheel = shutil.move(built, work / built.name)
        _phase("pip install hf_ser wheel", [*pip, "install", "--quiet", "--no-index", "--find-links", str(wheelhouse), wheel],
               timings, env=env)
        _phase("import + one training step", [str(python), "-c", STEP, str(RECIPE), str(work / "run")], timings,
               env=env, cwd=work)
    except subprocess.CalledProcessError as e:
        print(f"[check_plain_install] FAILED: {' '.join(map(str, e.cmd))[:300]} exited {e.returncode}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if args.venv is not None:
                shutil.rmtree(venv, ignore_errors=True)
    for name, seconds in timings.items():
        print(f"[check_plain_install] {name}: {seconds:.0f} s")
    print(f"[check_plain_install] total: {sum(timings.values()):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
