"""``hf-ser <command>``: one entry point for every tool hf_ser ships.

Each command lives in the module that owns the work and exposes ``add_arguments(parser)`` and
``run(args) -> int``. Commands are imported only when chosen, so ``hf-ser corpora list`` does not pay for
importing torch.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from types import ModuleType


def _corpora() -> ModuleType:
    from hf_ser.corpora import cli

    return cli


def _evaluate() -> ModuleType:
    from hf_ser.evaluation import cli

    return cli


def _predict() -> ModuleType:
    from hf_ser import predict

    return predict


def _push() -> ModuleType:
    from hf_ser.hub import cli

    return cli


def _matrix() -> ModuleType:
    from hf_ser import cross_corpus

    return cross_corpus


def _bench() -> ModuleType:
    from hf_ser.bench import cli

    return cli


def _benchmark() -> ModuleType:
    from hf_ser import benchmark

    return benchmark


def _train() -> ModuleType:
    from hf_ser import train

    return train


# name -> (help line, loader of the module that implements it)
COMMANDS: dict[str, tuple[str, Callable[[], ModuleType]]] = {
    "train": ("fine-tune on a recipe (same as `accelerate launch hf_ser/train.py RECIPE`)", _train),
    "corpora": ("list the supported corpora or inspect one on disk", _corpora),
    "evaluate": ("evaluate a saved model on one or more (cross-corpus) targets", _evaluate),
    "predict": ("label audio files or folders with a saved model", _predict),
    "matrix": ("train on each source set and test on each target corpus: one cross-corpus table", _matrix),
    "benchmark": ("reproduce a published benchmark's folds on the corpora you have: one comparable table", _benchmark),
    "bench": ("time hf_ser's training path against the HF Trainer baseline on the same work", _bench),
    "push": ("push a run's model to the Hugging Face Hub with a model card", _push),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``hf-ser`` parser; only ``command``'s module is imported to add its arguments."""
    parser = argparse.ArgumentParser(prog="hf-ser", description="Speech emotion recognition on the Hugging Face stack.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_line, loader) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_line, description=help_line)
        cmd.set_defaults(_loader=loader)
        if name == command and name != "train":
            loader().add_arguments(cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    if command == "train":
        # train parses its own arguments (recipe, key=value overrides, --resume).
        return int(COMMANDS["train"][1]().main(argv[1:]) or 0)
    args = build_parser(command).parse_args(argv)
    return int(args._loader().run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
