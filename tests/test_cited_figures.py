"""Every figure a recipe cites says where it comes from and whether it can be compared with the recipe's own.

A recipe header cites a published (or earlier) figure only in a block of this form:

    # Cited figure: 69.47 % UA / 69.07 % WA (WavLM-large)
    #   source: EmoBox (Ma et al., Interspeech 2024), Table 4 [verified: ...]
    #   protocol: IEMOCAP 4 classes, leave-one-session-out, 5 folds, speaker-independent; frozen features
    #   metric: UA and WA
    #   modality: speech
    #   this recipe: same folds and classes; different training (...)

A figure anywhere else in a header, or a block without one of these fields, fails. The tables of README.md
("source figure") and recipes/README.md ("expected", real corpora and baselines) state protocol, metric and
modality for each cited figure. The demo recipes' figures are hf_ser's own measurements, not citations.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
RECIPES = REPO / "recipes"
FIELDS = ("source", "protocol", "metric", "modality", "this recipe")
MODALITIES = ("speech+text", "speech", "text")  # longest first: "speech+text" is not "speech"
VERDICTS = ("same", "different", "partly")
# A figure: a decimal percentage (73.01 %), a fraction score (0.311), or a whole percentage named as a metric.
FIGURE = re.compile(
    r"(?<![\w.])(?:\d{1,3}\.\d{1,2}\s?%|0\.\d{2,4}(?![\d.])|\d{2}\s?%\s+(?:WA|UA|accuracy|macro-F1))"
)
_FIELD = re.compile(r"^#   (" + "|".join(FIELDS) + r"): (.*)$")


def header(text: str) -> list[str]:
    """The comment lines that open a recipe file."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def citation_problems(lines: list[str], recipe_modality: str | None = None) -> list[str]:
    """What is wrong with the cited figures of a recipe header (empty: nothing). With ``recipe_modality``, a
    figure of another modality must say the recipe is ``different`` (a recipe is compared only with figures of
    its own modality)."""
    problems: list[str] = []
    block: dict[str, str] | None = None
    title = ""

    def close() -> None:
        if block is None:
            return
        missing = [f for f in FIELDS if not block.get(f, "").strip()]
        if missing:
            problems.append(f"cited figure {title!r} lacks {', '.join(missing)}")
        modality = block.get("modality", "")
        if modality and not modality.startswith(MODALITIES):
            problems.append(f"cited figure {title!r}: modality must start with one of {MODALITIES}, not {modality!r}")
        verdict = block.get("this recipe", "")
        if verdict and not verdict.startswith(VERDICTS):
            problems.append(f"cited figure {title!r}: 'this recipe' must say {' / '.join(VERDICTS)} protocol")
        figure_modality = next((m for m in MODALITIES if modality.startswith(m)), None)
        if recipe_modality and figure_modality and figure_modality != recipe_modality and not verdict.startswith("different"):
            problems.append(f"cited figure {title!r} is {figure_modality}, the recipe {recipe_modality}: say 'different'")

    field = None
    for line in lines:
        if line.startswith("# Cited figure:"):
            close()
            block, field, title = {}, None, line.removeprefix("# Cited figure:").strip()
            continue
        if block is not None and line.startswith("#   "):
            m = _FIELD.match(line)
            if m:
                field = m.group(1)
                block[field] = m.group(2).strip()
            elif field is not None:
                block[field] += " " + line[1:].strip()
            continue
        close()
        block, field = None, None
        if FIGURE.search(line):
            problems.append(f"figure outside a 'Cited figure' block: {line.strip()!r}")
    close()
    return problems


def _recipes() -> list[Path]:
    return sorted(p for p in RECIPES.rglob("*.yaml") if p.parts[-2] not in ("demo", "accelerate"))


@pytest.mark.parametrize("path", _recipes(), ids=lambda p: str(p.relative_to(RECIPES)))
def test_recipe_headers_cite_figures_with_their_provenance(path):
    from hf_ser.config import load_recipe
    from hf_ser.modality import model_modality

    modality = model_modality(load_recipe(path).model) if path.name != "base.yaml" else None
    assert citation_problems(header(path.read_text(encoding="utf-8")), modality) == []


@pytest.mark.parametrize(
    "path", [p for p in RECIPES.rglob("*.yaml") if p.parts[-2] != "accelerate" and "matrix" not in p.name],
    ids=lambda p: str(p.relative_to(RECIPES)),
)
def test_every_training_recipe_header_states_its_modality(path):
    from hf_ser.config import load_recipe
    from hf_ser.modality import model_modality

    modality = model_modality(load_recipe(path).model) if path.name != "base.yaml" else "speech"
    stated = [line.removeprefix("# Modality: ").split()[0] for line in header(path.read_text()) if line.startswith("# Modality: ")]
    assert stated == [modality]


def test_a_header_citing_a_figure_badly_fails():
    good = [
        "# Cited figure: 69.47 % UA",
        "#   source: EmoBox, Table 4",
        "#   protocol: IEMOCAP 4 classes, leave-one-session-out,",
        "#     speaker-independent",
        "#   metric: UA",
        "#   modality: speech",
        "#   this recipe: same folds",
        "# Launch (one GPU):",
    ]
    assert citation_problems(good) == []
    assert citation_problems(["# Reported: 73.01 % WA speaker-independent (Wang et al. 2021)"])  # loose figure
    assert citation_problems(["# baseline 0.311 macro-F1 [secondary]"])
    no_modality = [line for line in good if "modality" not in line]
    assert citation_problems(no_modality) == ["cited figure '69.47 % UA' lacks modality"]
    vague = [line.replace("modality: speech", "modality: audio") for line in good]
    assert "modality must start with one of" in citation_problems(vague)[0]
    assert citation_problems(good, "speech") == []
    assert "the recipe speech+text: say 'different'" in citation_problems(good, "speech+text")[0]
    unsaid = [line.replace("this recipe: same folds", "this recipe: see above") for line in good]
    assert "'this recipe' must say" in citation_problems(unsaid)[0]
    # Not figures: a validation fraction, a version, a learning rate.
    assert citation_problems(["# validation actors (20 %), MSP-Podcast v1.12, lr 1e-4, 2,347 segments"]) == []


def _table_cells(text: str, column: str, sections: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """``(first cell, cell of column)`` of every markdown table row whose header names ``column``."""
    out, index, section = [], None, ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if not line.startswith("|"):
            index = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if column in cells:
            index = cells.index(column)
        elif index is not None and not set(line) <= set("|- ") and (sections is None or section.startswith(sections)):
            out.append((cells[0], cells[index]))
    return out


def _cell_problems(name: str, cell: str) -> list[str]:
    if not FIGURE.search(cell) and not re.search(r"\d\s?%|\b0\.\d", cell):
        return []
    problems = []
    if not re.search(r"\b(WA|UA|accuracy|macro-F1|CCC)\b", cell):
        problems.append(f"{name}: no metric in {cell!r}")
    if not re.search(r"speech\+text|\bspeech\b|\btext\b", cell):
        problems.append(f"{name}: no modality in {cell!r}")
    if not re.search(r"speaker-(in)?dependent", cell, flags=re.I):
        problems.append(f"{name}: no protocol (speaker-independent or not) in {cell!r}")
    return problems


def test_readme_tables_state_protocol_metric_and_modality_of_cited_figures():
    rows = _table_cells((REPO / "README.md").read_text(encoding="utf-8"), "source figure")
    rows += _table_cells((RECIPES / "README.md").read_text(encoding="utf-8"), "expected", ("Real corpora", "Baselines"))
    assert len(rows) > 10
    problems = [p for name, cell in rows if "demo/" not in name for p in _cell_problems(name, cell)]
    assert problems == []


def test_no_dangling_section_references():
    """Docs and recipes name sections that exist: docs/corpora.md has no numbered sections."""
    texts = [p for p in [REPO / "README.md", *REPO.glob("docs/*.md"), *RECIPES.rglob("*.yaml"), RECIPES / "README.md"]]
    dangling = [str(p.relative_to(REPO)) for p in texts if re.search(r"corpora\.md\)? (§|section )\d", p.read_text(encoding="utf-8"))]
    assert dangling == []
