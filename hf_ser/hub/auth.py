"""Hub token lookup and scrubbing: the token goes to ``huggingface_hub`` and nowhere else.

The token comes from the argument, else ``HF_TOKEN`` / the cached ``hf auth login`` (``huggingface_hub.get_token``).
It is never logged, written into a card or config, or kept in an error message: errors raised by the Hub
client pass through :func:`scrub` before hf_ser re-raises them.
"""

from __future__ import annotations

import re

from huggingface_hub import get_token

# User access tokens look like hf_<34+ letters/digits>; scrub those even when they are not the one we hold.
_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{20,}")
REDACTED = "<redacted>"


def resolve_token(token: str | None) -> str | None:
    """The token to use: ``token`` if given, else the environment's (``HF_TOKEN`` or the saved login)."""
    return token or get_token()


def scrub(text: str, token: str | None) -> str:
    """Remove ``token`` (and anything shaped like a Hub token) from ``text``."""
    if token:
        text = text.replace(token, REDACTED)
    text = _TOKEN_PATTERN.sub(REDACTED, text)
    # "Bearer <anything>" would also leak a token of another shape.
    return re.sub(r"(?i)(bearer\s+)\S+", r"\1" + REDACTED, text)
