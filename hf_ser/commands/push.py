"""``hf-ser push RUN_DIR --repo-id ORG/NAME [--private] [--revision BRANCH] [--card-only FILE]``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="run directory written by hf_ser training (runs/<name>)")
    parser.add_argument("--repo-id", required=True, help="Hub repository, ORG/NAME (created if missing)")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", default=None, help="branch to push to (default main)")
    parser.add_argument("--max-retries", type=int, default=3, help="retries on network/server errors")
    parser.add_argument(
        "--card-only",
        type=Path,
        default=None,
        metavar="FILE",
        help="only render the model card into FILE (no network), to review it before pushing",
    )
    parser.epilog = "The token comes from HF_TOKEN or `hf auth login`; it is never printed or written."


def run(args: argparse.Namespace) -> int:
    from hf_ser.hub.card import render_model_card
    from hf_ser.hub.push import HubPushError, push_run

    if args.card_only is not None:
        card = render_model_card(args.run_dir, args.repo_id)
        args.card_only.write_text(str(card), encoding="utf-8")
        logger.info("model card written to %s", args.card_only)
        return 0
    try:
        url = push_run(args.run_dir, args.repo_id, private=args.private, revision=args.revision, max_retries=args.max_retries)
    except (HubPushError, FileNotFoundError) as e:
        logger.error("%s", e)
        return 1
    logger.info("pushed to %s", url)
    return 0
