"""Concepts spelled once: the clip and speaker keys (hf_ser.corpora.clip_key / speaker_key) and the 16 kHz
sample rate (hf_ser.audio.SAMPLE_RATE). A second spelling drifts; these tests find one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "hf_ser"
# (code, not ``docs``) f"{corpus}/{utt_id}", f"{row['corpus']}/{row['speaker']}", f"{c}/{u}": two fields joined by a slash, the first a corpus
KEY = re.compile(r"""(?<!`)f["']\{(?:[^}]*corpus[^}]*|c)\}/\{[^}]+\}["']""")
# Files whose own 16 kHz constant goes when their in-flight rewrite lands (spine-train: train.py, bench on train.run).
RATE_PENDING: set[str] = set()
# Model code saved next to the weights and imported where hf_ser is not installed: it cannot import hf_ser.audio.
SAVED_MODEL_CODE = {"models/whisper_encoder.py"}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(PACKAGE)), path.read_text()


def test_clip_and_speaker_keys_are_spelled_only_in_the_schema():
    found = [f"{name}: {m.group(0)}" for name, text in _sources() if name != "corpora/_schema.py" for m in KEY.finditer(text)]
    assert not found, "use hf_ser.corpora.clip_key / speaker_key instead of:\n" + "\n".join(found)


def test_the_sample_rate_is_defined_once():
    found = []
    for name, text in _sources():
        if name == "audio.py" or name in RATE_PENDING or name in SAVED_MODEL_CODE:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) and node.value.value == 16_000:
                found.append(f"{name}:{node.lineno}")
    assert not found, "import SAMPLE_RATE from hf_ser.audio instead of defining 16 kHz again: " + ", ".join(found)


def test_the_checks_would_see_a_second_spelling():
    assert KEY.search('key = f"{corpus}/{utt_id}"') and KEY.search("f\"{row['corpus']}/{row['speaker']}\"")
    assert not KEY.search('f"{fold.name}/{path}"')


def _metric_literals(text: str) -> list[int]:
    """Lines where a class metric's key is written as a string literal in code (docstrings are not code)."""
    from hf_ser.metrics.registry import CLASS_METRICS

    lines = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Constant) and child.value in CLASS_METRICS:
                lines.append(child.lineno)
    return lines


def test_metric_keys_are_spelled_only_in_the_registry():
    # config.py's select_metric Literal spells them for the schema (test_select_metric_choices_are_the_registrys
    # keeps it equal to the registry): importing the registry there would import torch for `hf-ser train --help`.
    found = [f"{name}:{line}" for name, text in _sources() if name not in ("metrics/registry.py", "config.py")
             for line in _metric_literals(text)]
    assert not found, "use hf_ser.metrics.registry (UA, WA, MACRO_F1, CLASS_METRICS, METRICS) instead of: " + ", ".join(found)
    assert _metric_literals('x = {"ua": 1}\nm = r["macro_f1"]') == [1, 2]  # not blind


def test_select_metric_choices_are_the_registrys():
    import typing

    from hf_ser.config import TrainConfig
    from hf_ser.metrics.registry import SELECT_METRICS

    hints = typing.get_type_hints(TrainConfig)
    assert set(typing.get_args(hints["select_metric"])) == set(SELECT_METRICS)
