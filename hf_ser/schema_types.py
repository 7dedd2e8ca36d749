"""The conventions every typed schema section of hf_ser shares (recipe sections, model options), and how a
pydantic error about one key becomes one line.

A section is a stdlib dataclass decorated with ``schema``: pydantic (v2) checks it when it is loaded, refuses
keys it does not declare, and takes each field's docstring as its description (JSON Schema, the recipe
reference). Types, ``Literal`` choices and ranges (``Annotated[float, Field(gt=0)]``) sit on the fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, with_config

schema = with_config(ConfigDict(extra="forbid", use_attribute_docstrings=True))
"""Decorator of a schema dataclass (put it above ``@dataclass``)."""


def _split_commas(value: Any) -> Any:
    # An override such as `tracking.report_to=wandb,tensorboard` arrives as one string.
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


CommaList = Annotated[list[str], BeforeValidator(_split_commas)]
"""A list of names; a comma-separated string is split (for ``key=value`` overrides)."""


# ------------------------------------------------------------------------------------------------ messages
def problem_line(key: str, errors: list[dict[str, Any]]) -> str:
    """One line for pydantic's ``errors`` about one recipe key (several: the alternatives of a union)."""
    err = errors[0]
    bound = _BOUNDS.get(err["type"])
    if err["type"] == "missing":
        return f"{key}: missing required key"
    if bound is not None:
        return f"{key}={err['input']!r} is out of range; allowed: {bound} {_limit(err)}"
    if len(errors) == 1:
        return f"{key}={err['input']!r}: {_lower(err['msg'])}"
    return f"{key}={err['input']!r} is not allowed; allowed: " + " or ".join(_allows(e) for e in errors)


_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _allows(err: dict[str, Any]) -> str:
    """What one alternative of a union allows, from its error."""
    if err["type"] in _BOUNDS:
        return f"a number {_BOUNDS[err['type']]} {_limit(err)}"
    if err["type"] == "literal_error":
        return err["ctx"]["expected"]
    return _lower(err["msg"]).removeprefix("input should be ").split(",")[0]


def _limit(err: dict[str, Any]) -> Any:
    value = next(iter(err["ctx"].values()))
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _lower(msg: str) -> str:
    msg = msg.removeprefix("Value error, ")  # our own validators' messages stand alone
    return msg[:1].lower() + msg[1:]
