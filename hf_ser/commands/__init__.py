"""``hf-ser <command>``: the command line. Every argparse wrapper of hf_ser lives in this package.

One module per command (lhotse's ``bin/modes`` layout), each with ``add_arguments(parser)`` and
``run(args) -> int``; the library packages hold no CLI code. A command module imports only the standard
library at the top, so ``hf-ser --help`` and ``hf-ser CMD --help`` never import torch; the work is imported
inside ``run``. User errors (``hf_ser.errors.UserError``, a missing file) print one line plus the fix and exit
with status 2 (``--debug`` shows the traceback instead): see ``hf_ser.commands.errors``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from types import ModuleType

from hf_ser.commands.errors import add_debug_flag, run_guarded


def _train() -> ModuleType:
    from hf_ser.commands import train

    return train


def _corpora() -> ModuleType:
    from hf_ser.commands import corpora

    return corpora


def _evaluate() -> ModuleType:
    from hf_ser.commands import evaluate

    return evaluate


def _predict() -> ModuleType:
    from hf_ser.commands import predict

    return predict


def _matrix() -> ModuleType:
    from hf_ser.commands import matrix

    return matrix


def _bench() -> ModuleType:
    from hf_ser.commands import bench

    return bench


def _benchmark() -> ModuleType:
    from hf_ser.commands import benchmark

    return benchmark


def _export() -> ModuleType:
    from hf_ser.commands import export

    return export


def _recipe() -> ModuleType:
    from hf_ser.commands import recipe

    return recipe


def _push() -> ModuleType:
    from hf_ser.commands import push

    return push


def _serve() -> ModuleType:
    from hf_ser.commands import serve

    return serve


# name -> (help line, loader of the command module)
COMMANDS: dict[str, tuple[str, Callable[[], ModuleType]]] = {
    "train": ("fine-tune on a recipe (same as `accelerate launch hf_ser/train.py RECIPE`)", _train),
    "corpora": ("list the supported corpora or inspect one on disk", _corpora),
    "recipe": ("draft a commented recipe from your own recordings (`hf-ser recipe new --corpus manifest ...`)", _recipe),
    "evaluate": ("evaluate a saved model on one or more (cross-corpus) targets", _evaluate),
    "predict": ("label audio files or folders with a saved model", _predict),
    "matrix": ("train on each source set and test on each target corpus: one cross-corpus table", _matrix),
    "bench": ("time hf_ser's training path against the HF Trainer baseline on the same work", _bench),
    "benchmark": ("reproduce a published benchmark's folds on the corpora you have: one comparable table", _benchmark),
    "push": ("push a run's model to the Hugging Face Hub with a model card", _push),
    "export": (
        "export a saved model to ONNX (`hf-ser export onnx MODEL_DIR OUT.onnx`) or as a stock transformers class "
        "(`hf-ser export transformers MODEL_DIR OUT_DIR`), parity-checked",
        _export,
    ),
    "serve": ("serve a model over HTTP: POST /v1/predict, GET /v1/model, /health, and a web page at /", _serve),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``hf-ser`` parser; only ``command``'s module is imported to add its arguments."""
    parser = argparse.ArgumentParser(prog="hf-ser", description="Speech emotion recognition on the Hugging Face stack.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_line, loader) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_line, description=help_line)
        cmd.set_defaults(_loader=loader)
        if name == command:
            loader().add_arguments(cmd)
            add_debug_flag(cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``hf-ser``'s entry point; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    return run_guarded(lambda: args._loader().run(args), debug=args.debug, prog=f"hf-ser {args.command}")
