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


def add_asr_flag(parser: argparse.ArgumentParser, where: str) -> None:
    """``--asr {auto,none,NAME}``: the transcripts a speech + text model gets for ``where`` (the inputs without
    one), by ``hf_ser.modality.choose_asr``. Spelled here (standard library only: ``--help`` imports no torch)."""
    parser.add_argument(
        "--asr", default="auto", metavar="{auto,none,NAME}",
        help=f"speech + text models: the transcript of {where} without one. auto (default): the ASR the model's "
        "training transcripts came from, if it records one (else speech alone); none: speech alone; NAME: that "
        "Whisper model (Hub name, folder, or shape:whisper-tiny). Given transcripts always win",
    )
