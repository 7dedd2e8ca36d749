"""``hf-ser push RUN_DIR --repo-id ORG/NAME [--private] [--revision BRANCH] [--include-manifests]``.

``--dry-run`` prints every file the push would upload, its size and the card; ``--card-only FILE`` writes the
card. Neither needs a token, the network or ``--repo-id``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, help="run directory written by hf_ser training (runs/<name>)")
    parser.add_argument("--repo-id", default=None, help="Hub repository, ORG/NAME (created if missing); needed to push")
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.add_argument("--revision", default=None, help="branch to push to (default main)")
    parser.add_argument("--max-retries", type=int, default=3, help="retries on network/server errors during the upload")
    parser.add_argument(
        "--include-manifests",
        action="store_true",
        help="also publish the per-clip manifests (clip IDs, speakers, labels) and speaker lists; refused for "
        "corpora whose licence forbids redistributing annotations (IEMOCAP, MSP-Podcast)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print every file that would be uploaded, its size and the model card; no token, no network",
    )
    parser.add_argument(
        "--card-only",
        type=Path,
        default=None,
        metavar="FILE",
        help="only render the model card into FILE (no token, no network), to review it before pushing",
    )
    parser.epilog = "The token comes from HF_TOKEN or `hf auth login`; it is never printed or written."


def run(args: argparse.Namespace) -> int:
    from hf_ser.errors import UserError
    from hf_ser.hub.push import plan_push, push_run

    if args.card_only is not None or args.dry_run:
        plan = plan_push(args.run_dir, args.repo_id, include_manifests=args.include_manifests)
        if args.card_only is not None:
            args.card_only.write_text(plan.card, encoding="utf-8")
            logger.info("model card written to %s", args.card_only)
        if args.dry_run:
            sys.stdout.write(plan.describe() + "\n")
        return 0
    if not args.repo_id:
        raise UserError("hf-ser push: --repo-id ORG/NAME is needed to push (--dry-run and --card-only need none)")
    url = push_run(
        args.run_dir, args.repo_id, private=args.private, revision=args.revision, max_retries=args.max_retries,
        include_manifests=args.include_manifests,
    )
    logger.info("pushed to %s", url)
    return 0
