"""``hf-ser train RECIPE [key=value ...] [--resume | --overwrite]``: fine-tune on a recipe (``hf_ser/train.py`` as a command).

``accelerate launch hf_ser/train.py RECIPE`` and ``python -m hf_ser.train RECIPE`` run ``main`` below too.
"""

from __future__ import annotations

import argparse
import sys

from hf_ser.commands.errors import add_debug_flag, run_guarded
from hf_ser.config import add_recipe_arguments, recipe_from_args

RECIPES_HELP = (
    "Every recipe, what it reproduces, its launch line and expected figure: recipes/README.md. "
    "Overrides are dotted recipe keys parsed as YAML, e.g. train.lr=3.0e-5 folds=all data.corpora.0.root=/data/RAVDESS"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe_arguments(parser)
    parser.epilog = RECIPES_HELP


EXIT_INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)


def run(args: argparse.Namespace) -> int:
    cfg = recipe_from_args(args)  # checked whole before torch and the trainer are imported
    from hf_ser import train

    train.setup_logging()
    try:
        train.run(cfg)
    except KeyboardInterrupt:
        sys.stderr.write(interrupted_line(cfg.train.output_dir, args) + "\n")
        return EXIT_INTERRUPTED
    return 0


def interrupted_line(output_dir: str, args: argparse.Namespace) -> str:
    """One line after Ctrl-C: the newest checkpoint of each fold that has one, and the command that continues."""
    import shlex
    from pathlib import Path

    from hf_ser.training.checkpoints import complete_checkpoints

    out = Path(output_dir)
    found = [done[-1] for done in (complete_checkpoints(d) for d in [out, *sorted(out.glob("fold_*"))]) if done]
    saved = f"newest checkpoint {', '.join(map(str, found))}" if found else "no checkpoint yet (training restarts at step 0)"
    again = shlex.join(["hf-ser", "train", args.recipe, *args.overrides, "--resume"])
    return f"interrupted: {saved}; continue with: {again}"


def main(argv: list[str] | None = None) -> int:
    """The entry of ``hf_ser/train.py`` run as a script: parse, then train; user errors as one line (exit 2)."""
    parser = argparse.ArgumentParser(prog="hf_ser/train.py", description="Fine-tune a speech emotion model on a recipe.")
    add_arguments(parser)
    add_debug_flag(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return run_guarded(lambda: run(args), debug=args.debug, prog="train")
