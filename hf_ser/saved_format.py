"""The format of a saved model's ``config.json``, and how a folder saved by another hf_ser is read.

Every model hf_ser saves records ``hf_ser_format`` (this module's ``FORMAT_VERSION``) and ``hf_ser_version``.
On load, with hf_ser installed, ``upgrade`` runs before the config object is made (``SerConfig.from_dict``,
``BaselineConfig.from_dict``):

* an older format is migrated step by step (``MIGRATIONS``: renamed keys and the like), and options added
  since it was written get their defaults (``hf_ser.model_options``), so the installed classes load it;
* a newer format is refused with one line naming the hf_ser version to install.

Format history: 0 = hf_ser 0.1.0 (no ``hf_ser_format`` key; ``classifier_dropout``,
``use_gradient_checkpointing``, and ``encoder_options`` for the baselines); 1 = the options under their
recipe names (``dropout``, ``gradient_checkpointing``, ``options``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hf_ser import __version__
from hf_ser.errors import UserError
from hf_ser.model_options import BaselineOptions, SslOptions, option_defaults

FORMAT_KEY = "hf_ser_format"
VERSION_KEY = "hf_ser_version"
FORMAT_VERSION = 1

# model_type of each hf_ser config class -> the options it records.
OPTIONS_OF_MODEL_TYPE = {"hf_ser": SslOptions, "hf_ser_baseline": BaselineOptions}


class NewerFormatError(UserError, ValueError):
    """A model folder saved by a newer hf_ser, in a format this one cannot read."""


def _rename(config: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    return {renames.get(k, k): v for k, v in config.items()}


def _from_0(model_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """0.1.0 -> 1: the saved options take their recipe names."""
    renames = {"classifier_dropout": "dropout"}
    if model_type == "hf_ser":
        renames["use_gradient_checkpointing"] = "gradient_checkpointing"
    else:
        renames["encoder_options"] = "options"
    return _rename(config, renames)


# format n -> the step that turns a config of format n into one of format n + 1.
MIGRATIONS: dict[int, Callable[[str, dict[str, Any]], dict[str, Any]]] = {0: _from_0}


def format_stamp() -> dict[str, Any]:
    """The keys every saved config carries: this format and the hf_ser version that wrote it."""
    return {FORMAT_KEY: FORMAT_VERSION, VERSION_KEY: __version__}


def upgrade(model_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """A saved ``config.json`` (as a dict) in the current format, with every option of its kind present.

    Raises:
        NewerFormatError: the folder was saved in a format newer than this hf_ser reads.
    """
    found = int(config.get(FORMAT_KEY, 0))
    if found > FORMAT_VERSION:
        writer = config.get(VERSION_KEY, "a newer release")
        raise NewerFormatError(
            f"this model was saved by hf_ser {writer} in model format {found}; the installed hf_ser {__version__} "
            f"reads formats up to {FORMAT_VERSION}: install hf_ser>={writer} (pip install -U 'hf_ser>={writer}')"
        )
    for step in range(found, FORMAT_VERSION):
        config = MIGRATIONS[step](model_type, config)
    options = OPTIONS_OF_MODEL_TYPE.get(model_type)
    defaults = option_defaults(options) if options is not None else {}
    return {**defaults, **config, **format_stamp()}  # now a config of this format, as this hf_ser would save it
