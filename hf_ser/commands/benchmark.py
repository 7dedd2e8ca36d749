"""``hf-ser benchmark emobox MODEL_OR_RECIPE --roots roots.yaml``: one table to set beside EmoBox's leaderboard.

Trains and tests every corpus of ``roots.yaml`` on disk with EmoBox's folds and label classes
(``hf_ser.emobox_suite``); the table is printed and written to ``--out`` with every fold's metrics.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", choices=["emobox"], help="the published benchmark to reproduce")
    parser.add_argument("model_or_recipe", help="a recipe YAML, or a backbone (Hub id, local folder, shape:<name>)")
    parser.add_argument("--roots", required=True, help="YAML mapping corpus name -> corpus root")
    parser.add_argument("--out", default="runs/emobox", help="output folder (default runs/emobox)")
    parser.add_argument("--partial", action="store_true",
                        help="run incomplete corpus copies on the listed clips present (not comparable with EmoBox)")
    parser.add_argument("--folds", default="all", help="'all' (default) or fold positions such as 0 or 0,2")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                        help="recipe overrides, e.g. --set train.max_steps=2 train.batch_size=4")


def run(args: argparse.Namespace) -> int:
    from hf_ser.emobox_suite import read_roots, run_emobox, table_markdown

    table = run_emobox(args.model_or_recipe, read_roots(args.roots), args.out, partial=args.partial,
                       folds=args.folds, overrides=args.overrides)
    sys.stdout.write(table_markdown(table))
    return 1 if table["failed"] else 0
