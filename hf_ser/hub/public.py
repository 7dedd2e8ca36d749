"""What a push publishes by default: aggregate figures, never who spoke which clip.

A run's manifests (one line per clip: its ID, speaker and label) and the speaker lists of ``metrics.json``
and ``split.json`` identify people and republish annotations, which some corpus licences forbid (IEMOCAP,
MSP-Podcast: ``CorpusInfo.annotations_restricted``). By default a push leaves the manifests out and uploads
``metrics.json`` / ``data_report.json`` reduced to aggregates: speaker lists become speaker counts, the
per-file skip list becomes its reason counts. ``--include-manifests`` uploads them whole, and is refused when
a corpus's licence restricts its annotations (a synthetic demo copy is not the corpus, so it is allowed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hf_ser.errors import UserError


class PublishRefusedError(UserError):
    """The push would publish what the corpus licence forbids; the message names the corpus and the flag."""


def public_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics.json`` without speaker lists: ``protocol.<side>_speakers`` become ``speaker_counts``."""
    out = dict(metrics)
    protocol = dict(out.get("protocol") or {})
    counts = {}
    for key in [k for k in protocol if k.endswith("_speakers") and isinstance(protocol[k], list)]:
        counts[key[: -len("_speakers")]] = len(protocol.pop(key))
    if counts:
        protocol["speaker_counts"] = counts
    if protocol:
        out["protocol"] = protocol
    return out


def public_data_report(report: Any) -> Any:
    """``data_report.json`` with each per-file ``skipped`` list replaced by its count (``reason_counts`` stay)."""
    if isinstance(report, Mapping):
        out = {}
        for key, value in report.items():
            if key == "skipped" and isinstance(value, list):
                out["skipped"] = len(value)
            else:
                out[key] = public_data_report(value)
        return out
    if isinstance(report, list):
        return [public_data_report(v) for v in report]
    return report


def check_manifests_publishable(corpora: Iterable[tuple[str, bool]]) -> None:
    """Refuse ``--include-manifests`` when a real corpus's licence restricts its annotations.

    Args:
        corpora: ``(registry name, is the synthetic demo copy)`` of every corpus the run used.

    Raises:
        PublishRefusedError: one line naming the corpora and what to push instead.
    """
    from hf_ser.corpora import CORPORA

    restricted = sorted(
        name for name, synthetic in corpora
        if not synthetic and name in CORPORA and CORPORA[name].info.annotations_restricted
    )
    if restricted:
        raise PublishRefusedError(
            f"--include-manifests: the licence of {', '.join(restricted)} does not allow redistributing its "
            "annotations (clip IDs, speakers, labels); push without --include-manifests (aggregate figures only)"
        )
