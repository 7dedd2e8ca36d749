"""``hf-ser corpora list`` and ``hf-ser corpora inspect NAME ROOT``: what hf_ser supports and what is on disk.

``inspect`` loads the corpus, runs the audio checks (silent or unreadable files are reported as skipped, and the
decoded audio is cached for training), and shows clips, speakers, label counts, skipped files and the folds of
every protocol written for the corpus. ``--json`` prints exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``list`` and ``inspect`` sub-commands to ``parser``."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="the supported corpora: languages, label sets, fold protocols")
    inspect = sub.add_parser("inspect", help="load a corpus from disk and report clips, labels, skips and folds")
    inspect.add_argument("name", help="registry name (`hf-ser corpora list` shows them)")
    inspect.add_argument("root", help="corpus root folder, as distributed")
    inspect.add_argument("--label-set", default="all", help="label-set name (all, 4class, 6class) or comma-separated labels")
    inspect.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    inspect.add_argument(
        "--label-map", default=None, help='JSON object mapping or dropping labels, e.g. \'{"bored_maybe": null}\''
    )
    inspect.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE",
        help="a loader option, as in the recipe's corpus options (e.g. speakers=unknown); repeatable",
    )
    inspect.add_argument(
        "--no-audio-check", action="store_true", help="skip decoding (silent/corrupt files are then not found)"
    )
    inspect.add_argument(
        "--cache-root", default=None, help="audio store cache (default: $HF_SER_CACHE or ~/.cache/hf_ser)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; returns the exit status."""
    from hf_ser.data.corpus_report import inspect_corpus, list_table, report_tables

    if args.action == "list":
        sys.stdout.write(list_table() + "\n")
        return 0
    from hf_ser.commands.evaluate import parse_label_map
    from hf_ser.errors import UserError

    label_set: str | list[str] = args.label_set if "," not in args.label_set else args.label_set.split(",")
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--option {item!r} is not of the form KEY=VALUE")
        options[key.strip()] = value
    report = inspect_corpus(
        args.name, args.root, label_set=label_set, audio_check=not args.no_audio_check, cache_root=args.cache_root,
        label_map=parse_label_map(args.label_map), options=options,
    )
    sys.stdout.write((json.dumps(report, ensure_ascii=False, indent=2) if args.json else report_tables(report)) + "\n")
    return 0
