"""``hf-ser``'s installed entry point (``pyproject.toml``); the commands live in ``hf_ser.commands``."""

from __future__ import annotations

import sys

from hf_ser.commands import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
