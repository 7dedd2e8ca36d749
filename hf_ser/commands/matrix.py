"""``hf-ser matrix MATRIX.yaml [key=value ...]``: train on each source set, test on each target corpus.

The table (markdown) is printed to stdout and written with ``matrix.json`` to the matrix's ``output_dir``.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", help="matrix YAML, e.g. recipes/demo/multilingual_matrix.yaml")
    parser.add_argument("overrides", nargs="*", help="key=value overrides applied to every cell")


def run(args: argparse.Namespace) -> int:
    from hf_ser.matrix import load_matrix, matrix_markdown, run_matrix

    table = run_matrix(load_matrix(args.matrix), extra_overrides=args.overrides)
    sys.stdout.write(matrix_markdown(table))
    return 0
