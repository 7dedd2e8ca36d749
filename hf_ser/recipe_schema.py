"""The recipe schema exported: ``recipes/recipe.schema.json`` for editors, ``docs/recipe_reference.md`` for people.

Both are generated from the dataclasses of ``hf_ser.config`` (through pydantic's JSON Schema), so a new field
appears in both with its type, default, allowed values or range and its docstring. Regenerate them with

    python -m hf_ser.recipe_schema

(``--check`` exits 1 when either file is stale; tests/test_recipe_schema.py fails then too).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import sys
import textwrap
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from hf_ser.config import RecipeConfig, _schema_dataclass
from hf_ser.model_options import BaselineOptions, SslOptions

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = Path("recipes") / "recipe.schema.json"
REFERENCE_PATH = Path("docs") / "recipe_reference.md"

# The options only one model kind takes (hf_ser.model_options), marked in the reference.
KIND_NOTES = {SslOptions: "kind wav2vec2 only", BaselineOptions: "baseline kinds only"}
_BOUND_WORDS = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))


def recipe_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a recipe file."""
    schema = TypeAdapter(RecipeConfig).json_schema()
    _complete_fields(RecipeConfig, schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _complete_fields(cls: type, schema: dict[str, Any]) -> None:
    """What pydantic leaves out of the JSON Schema of a stdlib dataclass: the default of a field with a
    ``default_factory`` (a section's default is its own fields' defaults, so it gets none), and the docstring
    of a field inherited from a base dataclass (``ModelConfig`` from ``hf_ser.model_options``)."""
    todo, seen = [cls], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        target = schema if node is cls else schema["$defs"][node.__name__]
        docs, owner = {}, {}
        for base in reversed(node.__mro__):
            if dataclasses.is_dataclass(base):
                for name, doc in _docstrings(base).items():
                    docs[name], owner[name] = doc, base
        for f in dataclasses.fields(node):
            prop = target["properties"][f.name]
            if f.name in docs:
                prop.setdefault("description", docs[f.name])
            if owner.get(f.name) in KIND_NOTES and "description" in prop:
                prop["description"] = f"({KIND_NOTES[owner[f.name]]}) {prop['description']}"
            inner = _schema_dataclass(typing.get_type_hints(node)[f.name])
            if inner is not None:
                todo.append(inner)
            elif f.default_factory is not dataclasses.MISSING:
                prop["default"] = f.default_factory()


def _docstrings(cls: type) -> dict[str, str]:
    """The attribute docstrings a class body declares: the string right after each annotated field."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    return {
        node.target.id: inspect.cleandoc(after.value.value)
        for node, after in zip(body, body[1:])
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)
    }


def fields(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every field of every section: ``(section title, dotted key, property schema)``, sections in recipe order.

    A list of sections (``data.corpora``) is shown with ``[]`` (``data.corpora[].root``).
    """
    defs = schema.get("$defs", {})
    done: set[str] = set()

    def walk(node: dict[str, Any], title: str, prefix: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        nested = []
        for name, prop in node.get("properties", {}).items():
            key = f"{prefix}.{name}" if prefix else name
            yield title, key, prop
            ref, suffix = _section_ref(prop)
            if ref and ref not in done:  # a section used twice (data.eval_corpora) is listed at its first place
                done.add(ref)
                nested.append((defs[ref], ref, key + suffix))
        for child, child_title, child_prefix in nested:
            yield from walk(child, child_title, child_prefix)

    yield from walk(schema, schema.get("title", "RecipeConfig"), "")


def _section_ref(prop: dict[str, Any]) -> tuple[str | None, str]:
    """The ``$defs`` name a property refers to (directly, nullable, or as list items) and the key suffix."""
    for option in [prop, *prop.get("anyOf", [])]:
        if "$ref" in option:
            return option["$ref"].rsplit("/", 1)[-1], ""
        if option.get("type") == "array" and "$ref" in option.get("items", {}):
            return option["items"]["$ref"].rsplit("/", 1)[-1], "[]"
    return None, ""


def bounds(prop: dict[str, Any]) -> str:
    """The range of a numeric property (``>= 1``, ``>= 0, < 1``), '' when it has none."""
    parts = []
    for option in [prop, *prop.get("anyOf", []), *[prop.get("items", {})]]:
        for word, sign in _BOUND_WORDS:
            if word in option:
                parts.append(f"{sign} {option[word]}")
    return ", ".join(dict.fromkeys(parts))


def is_numeric(prop: dict[str, Any]) -> bool:
    """Whether a property takes a number (alone, nullable, or as one alternative)."""
    return any(o.get("type") in ("integer", "number") for o in [prop, *prop.get("anyOf", [])])


def type_text(prop: dict[str, Any]) -> str:
    """A short human form of a property's type."""
    if "$ref" in prop:
        return "section"
    if "anyOf" in prop:
        return " or ".join(dict.fromkeys(type_text(o) for o in prop["anyOf"]))
    if "enum" in prop or "const" in prop:
        return "choice"
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {type_text(prop.get('items', {}))}"
    if kind == "object":
        return "mapping"
    return {"integer": "int", "number": "float", "boolean": "bool", "string": "str", "null": "null"}.get(kind, kind)


def allowed_text(prop: dict[str, Any]) -> str:
    """Allowed values: the choices of a ``Literal``, a range, or a pattern."""
    choices = []
    for option in [prop, *prop.get("anyOf", [])]:
        choices += [json.dumps(v) for v in option.get("enum", [])]
        if "const" in option:
            choices.append(json.dumps(option["const"]))
    parts = [", ".join(f"`{c}`" for c in choices)] if choices else []
    if bounds(prop):
        parts.append(bounds(prop))
    if "pattern" in prop:
        parts.append(f"matches `{prop['pattern'].strip('^$')}`")
    return "; ".join(parts)


def reference_markdown(schema: dict[str, Any]) -> str:
    """``docs/recipe_reference.md``: one table per section, one row per field."""
    lines = [
        "# Recipe reference",
        "",
        "Every key a recipe may set, generated from the recipe schema (`hf_ser/config.py`) by "
        "`python -m hf_ser.recipe_schema`; do not edit by hand. A recipe is a YAML file of these keys (anything "
        "left out keeps its default); `key=value` overrides on the command line use the same dotted names. Editors "
        "check a recipe while it is typed against `recipes/recipe.schema.json` (see the README, \"Recipes\").",
        "",
    ]
    current = None
    for title, key, prop in fields(schema):
        if title != current:
            current = title
            section = schema["$defs"][title] if title in schema.get("$defs", {}) else schema
            lines += ["", f"## {title}", ""]
            if section.get("description"):
                lines += [" ".join(section["description"].split()), ""]
            lines += ["| key | type | default | allowed | description |", "| --- | --- | --- | --- | --- |"]
        if "default" in prop:
            default = f"`{json.dumps(prop['default'])}`"
        else:
            default = "(its fields)" if _section_ref(prop)[0] else "required"
        cells = [f"`{key}`", type_text(prop), default, allowed_text(prop), " ".join(prop.get("description", "").split())]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def generated() -> dict[Path, str]:
    """The generated files, by path relative to the repository root, with their text."""
    schema = recipe_json_schema()
    return {SCHEMA_PATH: json.dumps(schema, indent=2) + "\n", REFERENCE_PATH: reference_markdown(schema)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hf_ser.recipe_schema", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a generated file is stale")
    parser.add_argument("--root", type=Path, default=REPO, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    stale = []
    for rel, text in generated().items():
        path = args.root / rel
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(str(rel))
        if not args.check:
            path.write_text(text)
    if args.check and stale:
        sys.stderr.write(f"stale: {', '.join(stale)}; regenerate with `python -m hf_ser.recipe_schema`\n")
        return 1
    sys.stdout.write(("wrote " + ", ".join(stale) if stale else "up to date") + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
