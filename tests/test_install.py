"""What a plain ``pip install .`` resolves: pyproject's pins agree with requirements.lock, and CI installs that way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]


def _dependencies() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    # An extra may name another extra of hf_ser itself (``hf_ser[serve]``): that is not a dependency to lock.
    return {canonicalize_name(r.name): r for r in requirements if canonicalize_name(r.name) != canonicalize_name(project["name"])}


def _locked() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pins = [line.split("==") for line in lines if "==" in line and not line.startswith("#")]
    return {canonicalize_name(name): version.strip() for name, version in pins}


def test_torch_and_torchaudio_are_pinned_exactly_to_the_locked_pair():
    """``torch==2.11.*`` let pip pair torchaudio 2.11.1 with torch 2.11.0, which fails to load."""
    deps, locked = _dependencies(), _locked()
    for name in ("torch", "torchaudio"):
        (spec,) = deps[name].specifier
        assert spec.operator == "==" and "*" not in spec.version, f"{name} must be pinned exactly, not {spec}"
        assert spec.version == locked[name], f"pyproject pins {name}=={spec.version}, the lock {locked[name]}"


def test_every_dependency_is_locked_within_its_range():
    locked = _locked()
    for name, requirement in _dependencies().items():
        assert name in locked, f"{name} is a dependency but not in requirements.lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock has {name}=={locked[name]}, outside pyproject's {requirement.specifier}"
        )


def test_ci_also_installs_without_the_lock():
    """CI runs the README's test command, then the plain install (a fresh virtualenv, no lock, one step)."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "make test" in ci
    assert any(re.fullmatch(r"\S*python3? scripts/check_plain_install\.py", line) for line in ci), ci
    assert ci.index("make test") < next(i for i, line in enumerate(ci) if "check_plain_install" in line)
