"""hf_ser's import graph: no cycle anywhere, and no import from a lower layer up into a higher one.

The graph is read from the source (``ast``), not from a running interpreter, so it includes imports made inside
functions (lazy imports still run, and still tie modules together). Two kinds of import are not edges:
``if TYPE_CHECKING:`` blocks (never executed) and ``if __name__ == "__main__":`` blocks (the file run as a program
is the top of the stack, whatever its module name). The layers are documented in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "hf_ser"

# Lowest first. A module may import modules of its own layer or of a lower one; hf_ser.<component> is the
# first part after ``hf_ser.`` (a top-level module or a subpackage).
LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"", "errors", "fsutil", "audio", "metrics", "demo_data", "auto_classes", "schema_types", "modality"}),
    ("library", {"corpora", "splits", "emobox", "augment", "models", "baselines", "model_options", "saved_format"}),
    ("recipe", {"config", "validate", "model_kinds", "recipe_schema"}),
    ("pipeline", {"data", "training", "evaluation", "reporting", "run_dir", "acceleration"}),
    ("entry", {"train", "matrix", "predict", "inference", "hub", "emobox_suite", "onnx_export", "stock_export", "serve"}),
    ("command line", {"commands", "cli"}),
]
# Edges allowed for now, each with the reason and when it goes. Keep this empty.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


class _Imports(ast.NodeVisitor):
    def __init__(self, name: str, is_package: bool) -> None:
        self.name, self.is_package, self.found = name, is_package, []

    def visit_If(self, node: ast.If) -> None:
        test = ast.unparse(node.test)
        if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING") or "__name__ == '__main__'" in test:
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [a.name for a in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:  # relative import: resolve against this module's package
            package = self.name.split(".") if self.is_package else self.name.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        self.found += [f"{base}.{a.name}" for a in node.names] + [base]


def import_graph() -> dict[str, set[str]]:
    """``module -> hf_ser modules it imports`` (a ``from pkg import sub`` names the submodule)."""
    modules = _modules()

    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    graph = {}
    for name, path in modules.items():
        visitor = _Imports(name, path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        targets = {resolve(t) for t in visitor.found if t == "hf_ser" or t.startswith("hf_ser.")}
        graph[name] = {t for t in targets if t and t != name and t != "hf_ser"}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if (v, w) in KNOWN_EXCEPTIONS:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _layer(module: str) -> int:
    component = module.split(".")[1] if "." in module else ""
    for level, (_, members) in enumerate(LAYERS):
        if component in members:
            return level
    raise AssertionError(f"{module}: component {component!r} is in no layer; add it to LAYERS and docs/architecture.md")


def test_no_import_cycle():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles in hf_ser:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_every_module_has_a_layer():
    for module in import_graph():
        _layer(module)


def test_no_upward_import():
    upward = [
        f"{src} ({LAYERS[_layer(src)][0]}) imports {dst} ({LAYERS[_layer(dst)][0]})"
        for src, targets in import_graph().items()
        for dst in sorted(targets)
        if _layer(dst) > _layer(src) and (src, dst) not in KNOWN_EXCEPTIONS
    ]
    assert not upward, "imports up the layers of docs/architecture.md:\n" + "\n".join(upward)


def test_known_exceptions_are_still_real():
    graph = import_graph()
    stale = [edge for edge in KNOWN_EXCEPTIONS if edge[1] not in graph.get(edge[0], set())]
    assert not stale, f"KNOWN_EXCEPTIONS lists imports that no longer exist (remove them): {stale}"


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path):
    tree = ast.parse("def f():\n    from hf_ser.train import main\nif __name__ == '__main__':\n    import hf_ser.cli\n")
    visitor = _Imports("hf_ser.x", False)
    visitor.visit(tree)
    assert "hf_ser.train.main" in visitor.found and not any("cli" in f for f in visitor.found)
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_of_another_package_private_module():
    """``pkg._private`` is for ``pkg`` itself; other packages use the names ``pkg`` exports."""
    leaks = []
    for src, targets in import_graph().items():
        for dst in targets:
            parts = dst.split(".")
            private = next((i for i, p in enumerate(parts) if p.startswith("_")), None)
            if private is not None:
                owner = ".".join(parts[:private])
                if src != owner and not src.startswith(owner + "."):
                    leaks.append(f"{src} imports {dst}")
    assert not leaks, "\n".join(sorted(leaks))


def _all_imports(path: Path) -> list[str]:
    visitor = _Imports(path.stem, path.name == "__init__.py")
    visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    return visitor.found


def test_measurement_code_stays_outside_the_product():
    """benchmarks/ imports hf_ser, never the reverse (only `hf-ser bench` loads it, inside its run function), and
    no hf_ser module pulls in the HF Trainer (the baseline it is measured against lives in benchmarks/trainer)."""
    offenders = []
    for name, path in _modules().items():
        found = _all_imports(path)
        if any(t == "benchmarks" or t.startswith("benchmarks.") for t in found) and name != "hf_ser.commands.bench":
            offenders.append(f"{name} imports benchmarks")
        if any(t in ("transformers.Trainer", "transformers.TrainingArguments") for t in found):
            offenders.append(f"{name} imports the HF Trainer")
    assert not offenders, offenders
    bench_command = (PACKAGE / "commands" / "bench.py").read_text()
    top_level = [n for n in ast.parse(bench_command).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not any("benchmarks" in ast.unparse(n) for n in top_level)
