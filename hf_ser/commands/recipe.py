"""``hf-ser recipe new --corpus manifest --root my.csv -o my.yaml``: draft a commented recipe from your own data.

The draft (``hf_ser.data.own_recipe``) lists what it found (clips, skips, labels with the mappings applied,
speakers, durations), suggests a protocol (``predefined`` when the data has a split column) and the launch line.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``recipe new`` on ``parser``."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = sub.add_parser("new", help="draft a commented recipe from a corpus on disk (your manifest or audio folder)")
    new.add_argument(
        "--corpus", required=True, help="registry name: manifest (CSV/TSV/JSONL), audiofolder, hub, or a built-in corpus"
    )
    new.add_argument("--root", required=True, help="the manifest file or the corpus folder")
    new.add_argument("-o", "--output", required=True, help="recipe file to write, e.g. my.yaml")
    new.add_argument("--backbone", default=None, help="model.backbone (default: the recipe default)")
    new.add_argument(
        "--label-map",
        default=None,
        help='JSON object (or a .json file) mapping or dropping your labels, e.g. \'{"bored_maybe": null}\'',
    )


def run(args: argparse.Namespace) -> int:
    """Write the draft and say where it is; returns the exit status."""
    from hf_ser.commands.evaluate import parse_label_map
    from hf_ser.data.own_recipe import draft_recipe

    words = ["hf-ser", "recipe", "new", "--corpus", args.corpus, "--root", args.root, "-o", args.output]
    words += [w for flag, value in (("--backbone", args.backbone), ("--label-map", args.label_map)) if value for w in (flag, value)]
    text = draft_recipe(
        args.corpus, args.root, args.output, backbone=args.backbone, label_map=parse_label_map(args.label_map),
        command=shlex.join(words),
    )
    sys.stdout.write(text.split("\nname:", 1)[0] + f"\nwrote {args.output}\n")
    return 0
