"""The house plan holds: imports point down (no circles), no private names cross modules, the few lazy
imports are deliberate, every engine implements the whole contract, and the public API is visible to tools.

The import graph is read with ``ast`` from every module of ``pysciml/``: top-level and in-function
imports, ``if TYPE_CHECKING:`` blocks included, and ``from package import name`` counted as an
import of the package's ``__init__`` (as Python runs it) as well as of ``package.name`` when that
is a module.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "pysciml"

#: The deliberate lazy imports of pysciml modules: (importing module prefix, imported module prefix, why).
#: Any other import inside a function of a pysciml module to a pysciml module fails the test below.
LAZY_IMPORTS = (
    ("pysciml._xarray_hook", "pysciml.cells",
     "the .sciml accessor registers when xarray is imported; `import pysciml` must not load the gridded layer"),
    ("pysciml.cli", "pysciml.", "each CLI command loads only what it runs (`pysciml --help` stays instant)"),
    ("pysciml.bio", "pysciml.bio.sbml",
     "ps.bio.from_sbml loads libsbml and sympy on first use; `import pysciml.bio` stays light"),
    ("pysciml.engines.julia", "pysciml.engines.julia.",
     "`import pysciml.engines.julia` must not start Julia or import juliacall/sympy printers"),
    ("pysciml.engines.julia.", "pysciml.engines.julia.emit",
     "sympy and the Julia printer are loaded when a model is first compiled, not when the engine is created"),
    ("pysciml.engines.julia.", "pysciml.engines.julia.sysimage", "PackageCompiler paths only when asked for"),
    ("pysciml.engines.julia.engine", "pysciml.engines.julia.training", "fits only: keeps engine start-up small"),
    ("pysciml.engines.jax.engine", "pysciml.engines.jax.",
     "process settings (XLA flags, x64, EQX_ON_ERROR) must be applied before jax/equinox/diffrax load"),
    ("pysciml.engines.jax.plan", "pysciml.engines.jax.linsolve.select",
     "the linear-solve strategies (equinox) load only when a Rosenbrock method runs: a cached Tsit5 solve "
     "imports neither equinox nor diffrax"),
    ("pysciml.engines.jax.compiled_solve", "pysciml.engines.jax.diffrax_solvers",
     "a solve served from the compiled-model cache never imports diffrax (start-up)"),
    ("pysciml.engines.jax.compiled_solve", "pysciml.engines.jax.rosenbrock_diffrax",
     "a solve served from the compiled-model cache never imports diffrax (start-up)"),
    ("pysciml.engines.jax.rosenbrock.solve", "pysciml.engines.jax.rosenbrock.adjoint",
     "the discrete adjoint (equinox) only for reverse-mode solves"),
    ("pysciml.engines.jax.rosenbrock.solve", "pysciml.engines.jax.linsolve.dense",
     "equinox loads only when a Rosenbrock solve runs, not on a cached explicit solve's path"),
    ("pysciml.engines.jax.linsolve.", "pysciml.engines.jax.linsolve.",
     "each strategy's module (sparse analysis, scipy orderings) only when that strategy is chosen"),
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _target(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path):
    """``(node, targets, in_function)`` for every import of a pysciml module in ``module``."""
    tree = ast.parse(path.read_text())
    in_function = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name in MODULES]
        elif isinstance(node, ast.ImportFrom):
            base = _target(module, path, node)
            targets = [t for t in [base] + [f"{base}.{a.name}" for a in node.names] if t in MODULES]
        else:
            continue
        if targets:
            yield node, targets, id(node) in in_function


def _graph() -> dict[str, set[str]]:
    return {m: {t for _, ts, _ in _imports(m, p) for t in ts if t != m} for m, p in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_check_can_fail():
    """Negative control: a circle added to the real graph is found."""
    graph = _graph()
    graph["pysciml.errors"] = graph["pysciml.errors"] | {"pysciml.ivp"}
    found = _cycles(graph)
    assert found and any("pysciml.errors" in c and "pysciml.ivp" in c for c in found)


def test_no_private_names_cross_modules():
    """``from pysciml.x import _name`` is refused unless ``_name`` is a module of x's package."""
    bad = []
    for module, path in MODULES.items():
        for node, targets, _ in _imports(module, path):
            if isinstance(node, ast.ImportFrom):
                base = _target(module, path, node)
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__") and f"{base}.{a.name}" not in MODULES:
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {a.name} from {base}")
    assert bad == []


def test_lazy_imports_are_the_deliberate_ones():
    undeclared = []
    for module, path in MODULES.items():
        for node, targets, in_function in _imports(module, path):
            if not in_function:
                continue
            for t in targets:
                if not any(module.startswith(a) and t.startswith(b) for a, b, _ in LAZY_IMPORTS):
                    undeclared.append(f"{path.relative_to(ROOT)}:{node.lineno}: {t}")
    assert undeclared == [], "import these at the top of the module, or list them in LAZY_IMPORTS with the reason"


def test_import_pysciml_loads_no_engine():
    import subprocess

    code = ("import sys, pysciml; print(','.join(m for m in ('jax', 'juliacall', 'xarray', 'scipy', 'pysciml.cells',"
            " 'pysciml.engines.jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


# -- the engine contract ------------------------------------------------------------------------------
def test_every_engine_implements_the_whole_contract():
    from pysciml.engines.contract import OPERATIONS, Engine
    from pysciml.engines.registry import ENGINES, load_engine_class

    declared = [name for name, f in vars(Engine).items() if getattr(f, "__isabstractmethod__", False)]
    assert set(OPERATIONS) <= set(declared)
    for name in ENGINES:
        cls = load_engine_class(name)
        assert issubclass(cls, Engine) and not inspect.isabstract(cls), name
        for op in OPERATIONS:  # same parameters as the contract
            ours = list(inspect.signature(getattr(cls, op)).parameters)
            theirs = list(inspect.signature(getattr(Engine, op)).parameters)
            assert ours == theirs, (name, op, ours, theirs)


def test_public_layer_never_probes_engines():
    """No ``hasattr(engine, ...)`` / ``getattr(engine, ...)`` probing above the engine line."""
    bad = []
    for module, path in MODULES.items():
        if module.startswith("pysciml.engines"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hasattr", "getattr"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Name) and first.id in ("eng", "engine"):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []


def test_requests_and_results_are_frozen_dataclasses():
    import dataclasses

    from pysciml.engines import requests

    classes = [c for c in vars(requests).values() if inspect.isclass(c) and c.__module__ == requests.__name__]
    assert len(classes) >= 15
    for c in classes:
        assert dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen, c.__name__


# -- the public API ------------------------------------------------------------------------------------
def _type_checking_mirror() -> dict[str, str]:
    tree = ast.parse((PKG / "__init__.py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.level == 1
                for a in imp.names:
                    assert a.asname == a.name, f"write `{a.name} as {a.name}` so type checkers re-export it"
                    out[a.name] = imp.module
    return out


def test_exports_table_and_type_checking_mirror_agree():
    import pysciml

    assert _type_checking_mirror() == pysciml._EXPORTS
    assert sorted(pysciml.__all__) == sorted([*pysciml._EXPORTS, "__version__"])


@pytest.mark.parametrize("name", sorted(importlib.import_module("pysciml")._EXPORTS))
def test_every_public_name_resolves_to_where_the_table_says(name):
    import pysciml

    obj = getattr(pysciml, name)
    assert getattr(importlib.import_module(f"pysciml.{pysciml._EXPORTS[name]}"), name) is obj


def test_py_typed_ships():
    assert (PKG / "py.typed").exists()
    assert os.path.getsize(PKG / "py.typed") == 0


def test_dense_max_is_the_committed_measurement():
    """``DENSE_MAX`` lies in the crossover interval that benchmarks/linsolve_crossover.py measured and committed."""
    import json

    from pysciml.solvers.linear import DENSE_MAX

    report = json.loads((ROOT / "benchmarks" / "results" / "linsolve_crossover.json").read_text())
    crossover = report["crossover"]
    dense_wins = [r["states"] for r in report["rows"] if r["states"] < crossover]
    assert max(dense_wins) <= DENSE_MAX < crossover
    assert report["dense_max"] == DENSE_MAX
