"""Readers for word alignments shipped with corpora or written by external aligners.

* IEMOCAP ``sentences/ForcedAlignment/<dialog>/<utt>.wdseg`` (HTK style, 10 ms frames).
* Praat TextGrid, the output of the Montreal Forced Aligner: both the long ("ooTextFile" with ``key = value``
  lines) and the short format (values only), UTF-8 or UTF-16.

Silence and filler tokens are dropped, so what remains are the spoken words in order.
"""

from __future__ import annotations

import re
from pathlib import Path

from hf_ser.augment.spans import WordSpan

# 10 ms frames: start = SFrm * 0.01, end = (EFrm + 1) * 0.01 (EFrm is the last frame, inclusive).
WDSEG_FRAME_S = 0.01
# Tokens that mark silence or non-speech rather than words, in .wdseg and MFA/Praat tiers.
_SILENCE_TOKENS = frozenset({"", "<s>", "</s>", "<sil>", "sil", "sp", "spn", "<eps>", "<unk>", "{sl}", "#"})
_VARIANT = re.compile(r"\(\d+\)$")

# Praat's long and short text formats hold the same values in the same order; the long one only adds
# `key =` labels and `item [n]:` headers. Reading quoted strings, numbers and <exists>/<absent> flags in order
# (and skipping `[n]` indices) therefore gives the short format's token stream for both.
_TEXTGRID_TOKEN = re.compile(
    r'"((?:[^"]|"")*)"'  # quoted string, Praat escapes " as ""
    r"|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"  # number
    r"|(<exists>|<absent>)"  # tier flag
    r"|\[\d*\]"  # item / interval index (ignored)
)


class AlignmentFileError(ValueError):
    """An alignment file that cannot be parsed, or lacks the requested tier."""


def _is_silence(token: str) -> bool:
    t = token.strip().lower()
    return (
        t in _SILENCE_TOKENS
        or (t.startswith("++") and t.endswith("++"))
        or (t.startswith("<") and t.endswith(">"))
    )


def parse_wdseg(text: str) -> list[WordSpan]:
    """Parse the text of an IEMOCAP ``.wdseg`` file into word spans.

    Rows look like ``41 72 -17530 WHAT(2)``; the header (``SFrm EFrm SegAScr Word``) and the final total line
    are skipped. The variant mark ``(n)`` is removed from the word. ``SegAScr`` is an unnormalised acoustic
    log score, not comparable across clips, so ``score`` stays ``None``.
    """
    spans = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        try:
            s_frm, e_frm = int(fields[0]), int(fields[1])
        except ValueError:
            continue  # header or total line
        word = " ".join(fields[3:])
        if _is_silence(word):
            continue
        spans.append(WordSpan(_VARIANT.sub("", word), s_frm * WDSEG_FRAME_S, (e_frm + 1) * WDSEG_FRAME_S))
    return spans


def read_wdseg(path: str | Path) -> list[WordSpan]:
    """Read an IEMOCAP ``.wdseg`` file (see ``parse_wdseg``)."""
    return parse_wdseg(Path(path).read_text(encoding="utf-8", errors="replace"))


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig", errors="replace")


def parse_textgrid(text: str, tier: str = "words") -> list[WordSpan]:
    """Parse a Praat TextGrid (long or short text format) and return the labelled intervals of ``tier``.

    Args:
        text: the file content.
        tier: interval-tier name; MFA writes "words" and "phones" (per speaker: "<speaker> - words"), so a
            tier whose name ends with `` - <tier>`` also matches.

    Raises:
        AlignmentFileError: not a TextGrid, truncated, or no such interval tier (the message lists the tiers).
    """
    tokens: list[str] = []
    for m in _TEXTGRID_TOKEN.finditer(text):
        if m.group(1) is not None:
            tokens.append(m.group(1).replace('""', '"'))
        elif m.group(2) is not None:
            tokens.append(m.group(2))
        elif m.group(3) is not None:
            tokens.append(m.group(3))
    if len(tokens) < 6 or tokens[0] != "ooTextFile" or tokens[1] != "TextGrid":
        raise AlignmentFileError(
            "not a text TextGrid (expected 'File type = \"ooTextFile\"', 'Object class = \"TextGrid\"')"
        )
    try:
        pos = 5  # after "ooTextFile", "TextGrid", xmin, xmax, <exists>
        n_tiers = int(tokens[pos])
        pos += 1
        names = []
        for _ in range(n_tiers):
            kind, name = tokens[pos], tokens[pos + 1]
            n_items = int(tokens[pos + 4])  # after class, name, xmin, xmax
            pos += 5
            names.append(name)
            width = 3 if kind == "IntervalTier" else 2  # TextTier points are (time, mark)
            items = tokens[pos : pos + width * n_items]
            if len(items) < width * n_items:
                raise IndexError("truncated tier")
            pos += width * n_items
            if kind == "IntervalTier" and (name == tier or name.endswith(f" - {tier}")):
                spans = []
                for i in range(n_items):
                    start, end, label = items[3 * i : 3 * i + 3]
                    if not _is_silence(label):
                        spans.append(WordSpan(label.strip(), float(start), float(end)))
                return spans
    except (IndexError, ValueError) as e:
        raise AlignmentFileError(f"malformed TextGrid ({e})") from e
    raise AlignmentFileError(f"no interval tier {tier!r}; tiers: {names}")


def read_textgrid(path: str | Path, tier: str = "words") -> list[WordSpan]:
    """Read a TextGrid file (long or short format, UTF-8 or UTF-16); see ``parse_textgrid``."""
    return parse_textgrid(_decode(Path(path).read_bytes()), tier=tier)
