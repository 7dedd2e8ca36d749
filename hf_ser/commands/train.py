"""``hf-ser train RECIPE [key=value ...] [--resume | --overwrite]``: fine-tune on a recipe (``hf_ser/train.py`` as a command).

``accelerate launch hf_ser/train.py RECIPE`` and ``python -m hf_ser.train RECIPE`` run ``main`` below too.
"""

from __future__ import annotations

import argparse
import sys

from hf_ser.commands.errors import add_debug_flag, run_guarded

RECIPES_HELP = (
    "Every recipe, what it reproduces, its launch line and expected figure: recipes/README.md. "
    "Overrides are dotted recipe keys parsed as YAML, e.g. train.lr=3.0e-5 folds=all data.corpora.0.root=/data/RAVDESS"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="YAML recipe (all of them: recipes/README.md)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.lr=3.0e-5 folds=all")
    parser.add_argument(
        "--resume", action="store_true",
        help="continue from the newest checkpoint of the run folder (the recipe must match its recipe.resolved.yaml)",
    )
    parser.add_argument("--overwrite", action="store_true", help="clear a non-empty train.output_dir first (checkpoints included)")
    parser.epilog = RECIPES_HELP


def run(args: argparse.Namespace) -> int:
    from hf_ser import train

    flags = [*(["--resume"] if args.resume else []), *(["--overwrite"] if args.overwrite else [])]
    return int(train.main([args.recipe, *args.overrides, *flags]) or 0)


def main(argv: list[str] | None = None) -> int:
    """The entry of ``hf_ser/train.py`` run as a script: parse, then train; user errors as one line (exit 2)."""
    parser = argparse.ArgumentParser(prog="hf_ser/train.py", description="Fine-tune a speech emotion model on a recipe.")
    add_arguments(parser)
    add_debug_flag(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    return run_guarded(lambda: run(args), debug=args.debug, prog="train")
