"""How the command line reports a user's mistake: one line naming it, one line with the fix, exit status 2.

A traceback helps the developer of hf_ser, not the user who misspelt a recipe key; ``--debug`` brings it back.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from hf_ser.errors import UserError

# What to do about each kind of mistake (the error message itself names the key, path or value).
FIXES: dict[str, str] = {
    "RecipeError": "correct that key in the recipe or in the key=value override; recipes/README.md lists recipes that load",
    "CorpusLayoutError": (
        "point the corpus root at the folder as distributed; `hf-ser corpora inspect NAME ROOT` shows what hf_ser "
        "finds there, docs/corpora.md describes each layout"
    ),
    "UnknownLabelsError": "map or drop each label as shown; docs/corpora.md lists the spellings hf_ser reads by itself",
    "NoSpeakersError": "speakers keep test voices out of training; without them every report says: speakers unknown",
    "CrossCorpusLeakError": "evaluate on a corpus the model did not select on, or drop it from data.corpora / data.eval_corpora",
    "MissingSpeakersError": "use the whole corpus, or data.protocol_options={strict: false} to run on the speakers present",
    "ForeignCodeError": "load a folder saved by hf_ser, or pass --trust-remote-code if you trust its code",
    "NewerFormatError": "install the hf_ser version the message names, or load the model with the hf_ser that saved it",
    "StockFormRefused": (
        "use `hf-ser export onnx`, or share the hf_ser form (it loads with hf_ser installed, or with trust_remote_code)"
    ),
    "HubPushError": "nothing in the run folder changed: fix what the message names, then run the `hf-ser push` command again",
    "PublishRefusedError": "push without --include-manifests: the weights, the card and the aggregate metrics are still published",
    "FileNotFoundError": "check the path (relative paths are taken from the current folder)",
    "NotADirectoryError": "check the path: a folder is expected there",
    "IsADirectoryError": "check the path: a file is expected there",
}
EXIT_USER_ERROR = 2
USER_ERRORS: tuple[type[BaseException], ...] = (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError)


def add_debug_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")


def fix_for(error: BaseException) -> str:
    """The fix line for ``error``: the most specific class with an entry in ``FIXES``."""
    for cls in type(error).__mro__:
        if cls.__name__ in FIXES:
            return FIXES[cls.__name__]
    return "see the message above"


def run_guarded(work: Callable[[], int | None], *, debug: bool, prog: str) -> int:
    """Run ``work``; a user error becomes two lines on stderr and exit status 2 (re-raised with ``debug``)."""
    try:
        return int(work() or 0)
    except USER_ERRORS as e:
        if debug:
            raise
        message = str(e).strip() or type(e).__name__
        if isinstance(e, OSError) and e.filename is not None and str(e.filename) not in message:
            message = f"{message}: {e.filename}"
        logging.shutdown()  # flush log lines first, so the error is the last thing the user reads
        sys.stderr.write(f"{prog}: error: {message}\n{prog}: fix: {fix_for(e)} (--debug shows the traceback)\n")
        return EXIT_USER_ERROR
