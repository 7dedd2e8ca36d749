"""Errors that a user caused and can fix: the command line prints them as one line (no traceback).

This module imports nothing, so every layer may raise these and ``hf_ser.commands`` can catch them.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user gave (recipe, file, folder); the message names it and says how to fix it."""


class RecipeError(UserError, ValueError):
    """A recipe or override that does not fit the schema or the registries; the message names the key."""


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (its type's name when it has none): a library's multi-line error
    quoted inside a one-line ``UserError``."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
