"""The conventions every typed schema section of hf_ser shares (recipe sections, model options).

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
