"""Command-line flags that several ``hf-ser`` commands share, spelled and explained once."""

from __future__ import annotations

import argparse


def add_trust_remote_code_flag(parser: argparse.ArgumentParser) -> None:
    """``--trust-remote-code``: the explicit opt-in to run Python shipped with a model (never done without it,
    and never asked for on the terminal)."""
    parser.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="run Python code shipped in the model folder or repo (never done without this flag)",
    )


def add_calibration_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-calibration``: raw probabilities instead of the ones divided by the temperature fitted at training."""
    parser.add_argument(
        "--no-calibration", action="store_true",
        help="raw probabilities: ignore the temperature fitted on validation at training (labels never change)",
    )
