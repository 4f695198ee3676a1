"""MkDocs hooks: pages generated at build time from the code, so they never drift.

* ``api/*.md``: the API reference, one page per module of ``pysciml._EXPORTS`` (every
  public ``ps.X``), rendered by mkdocstrings; a public name without a docstring is a
  warning (so ``mkdocs build --strict`` fails).
* ``benchmarks/*.md``: the committed benchmark tables ``benchmarks/results/*.md``.
* ``gallery/*.md``: one page per ``examples/*.py``: its header (what it shows, how long it
  takes), how to run it, and its figure from a ``--quick`` run by ``tools/build_gallery.py``
  (cached by the example's content hash; run during the build for figures not yet cached,
  unless ``PYSCIML_GALLERY=skip``).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger("mkdocs.plugins.pysciml")

#: module of _EXPORTS -> API page title; modules not listed get their own page under their name
GROUPS = {
    "errors": "Errors",
    "status": "Errors",
    "model": "Models",
    "model_spec": "Models",
    "params": "Models",
    "networks": "Models",
    "ivp": "Solving",
    "compiled": "Solving",
    "ensemble": "Solving",
    "solution": "Solving",
    "solvers.adjoints": "Solvers and adjoints",
    "solvers.runge_kutta": "Solvers and adjoints",
    "solvers.rosenbrock.rosenbrock23": "Solvers and adjoints",
    "solvers.rosenbrock.rodas4": "Solvers and adjoints",
    "solvers.rosenbrock.rodas5p": "Solvers and adjoints",
    "solvers.bdf": "Solvers and adjoints",
    "solvers.auto": "Solvers and adjoints",
    "solvers.linear": "Solvers and adjoints",
    "training.optimizers": "Training",
    "training.strategies": "Training",
    "training.losses": "Training",
    "data.ingest": "Data",
    "discovery.search": "Equation discovery",
    "discovery.equations": "Equation discovery",
    "discovery.libraries": "Equation discovery",
    "discovery.custom": "Equation discovery",
    "loading": "Saving and loading",
    "latent.estimator": "Latent ODEs",
    "cells.fit": "Gridded data",
    "cells.simulate": "Gridded data",
    "info": "Saving and loading",
    "sde.spec": "Stochastic differential equations",
    "sde.solution": "Stochastic differential equations",
    "sde.fitting": "Stochastic differential equations",
    "solvers.sde": "Stochastic differential equations",
}
#: modules documented whole besides the ps.X names (reached as attributes or methods)
EXTRA_MODULES = {
    "Gridded data": ["pysciml.cells.accessor.SciMLAccessor"],
    "Solving": ["pysciml.compiled.CompiledSolve"],
    "Pictures": [
        "pysciml.plotting.backend",
        "pysciml.plotting.solution",
        "pysciml.plotting.fit",
        "pysciml.plotting.discovery",
        "pysciml.plotting.cells",
        "pysciml.plotting.latent",
        "pysciml.plotting.paths",
        "pysciml.plotting.fields",
        "pysciml.plotting.orbits",
        "pysciml.plotting.animation",
    ],
    "Physics": [
        "pysciml.physics.nbody.system.NBody",
        "pysciml.physics.fluids.navier_stokes.NavierStokes2D",
        "pysciml.physics.fluids.forcing.Kolmogorov",
        "pysciml.physics.md.potentials.LennardJones",
        "pysciml.physics.md.potentials.Morse",
        "pysciml.physics.md.lattice.fcc_lattice",
        "pysciml.physics.md.lattice.Atoms",
        "pysciml.physics.md.neighbours.neighbour_list",
        "pysciml.physics.md.neighbours.NeighbourList",
        "pysciml.physics.md.integrate.run_md",
        "pysciml.physics.md.integrate.Langevin",
        "pysciml.physics.md.integrate.stability_limit",
        "pysciml.physics.md.fitting.fit_forces",
        "pysciml.physics.arms.chain.SerialArm",
    ],
    "Saving and loading": ["pysciml.io.files"],
}


#: public classes whose methods live in a shared base class (``stacked.StackedSolution``): their
#: API entries list inherited members too
SHARED_METHODS = {"SDESolution", "EnsembleSolution"}


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def api_pages() -> dict[str, str]:
    """``{path: markdown}`` of the API reference (one page per group, and an index)."""
    sys.path.insert(0, str(ROOT))
    import pysciml

    groups: dict[str, list[str]] = defaultdict(list)
    for name, module in pysciml._EXPORTS.items():
        obj = getattr(importlib.import_module(f"pysciml.{module}"), name)
        if not (inspect.getdoc(obj) or "").strip():
            log.warning(f"ps.{name} ({module}) has no docstring; the API reference would be empty for it")
        groups[GROUPS.get(module, module)].append(f"pysciml.{module}.{name}")
    for title, paths in EXTRA_MODULES.items():
        groups[title].extend(paths)
    pages, index = {}, ["# API reference", "", "Every public name of `import pysciml as ps`, by topic.", ""]
    for title, paths in sorted(groups.items()):
        body = [f"# {title}", ""]
        for path in paths:
            body += [f"::: {path}"]
            if path.rsplit(".", 1)[1] in SHARED_METHODS:  # methods defined once, in a base class
                body += ["    options:", "      inherited_members: true"]
            body += [""]
        pages[f"api/{_slug(title)}.md"] = "\n".join(body)
        short = ", ".join(f"`{p.rsplit('.', 1)[1]}`" for p in paths)
        index.append(f"* [{title}]({_slug(title)}.md): {short}")
    pages["api/index.md"] = "\n".join(index) + "\n"
    return pages


def benchmark_pages() -> dict[str, str]:
    results = ROOT / "benchmarks" / "results"
    pages = {f"benchmarks/{p.name}": p.read_text() for p in sorted(results.glob("*.md"))}
    index = ["# Benchmarks", "", "Tables written by the scripts in `benchmarks/` (pysciml against named peers, "
             "measured in the same run); the conditions are in each table.", ""]
    index += [f"* [{Path(p).stem}]({Path(p).name})" for p in pages]
    pages["benchmarks/index.md"] = "\n".join(index) + "\n"
    return pages


def gallery_dir() -> Path:
    """Where ``tools/build_gallery.py`` keeps figures (``PYSCIML_GALLERY_DIR``)."""
    env = os.environ.get("PYSCIML_GALLERY_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pysciml" / "gallery"


def example_key(path: Path) -> str:
    """The cache key of an example's figure: its name and a hash of its source."""
    return f"{path.stem}-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


def _build_figure(name: str) -> Path | None:
    """Run the example at small size through ``tools/build_gallery.py`` (cached); None if it fails."""
    sys.path.insert(0, str(ROOT / "tools"))
    from build_gallery import build

    try:
        return build(name)
    except Exception as exc:  # noqa: BLE001 - a failing example is reported, the page says so
        log.warning(f"gallery: {name}: {exc}")
        return None


def gallery_pages() -> tuple[dict[str, str], dict[str, Path]]:
    """``({path: markdown}, {path: figure file})`` for every example."""
    import ast

    pages, figures = {}, {}
    index = ["# Gallery", "", "Every script in `examples/`, with its figure from a run at small size "
             "(`--quick`; `python tools/build_gallery.py` builds them).", ""]
    for path in sorted((ROOT / "examples").glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        title, _, rest = doc.partition("\n")
        body = [f"# {title.rstrip('.')}", "", rest.strip(), "", "```bash", f"python examples/{path.name} --quick",
                "```", ""]
        figure = gallery_dir() / f"{example_key(path)}.png"
        if not figure.exists() and os.environ.get("PYSCIML_GALLERY", "build") != "skip":
            figure = _build_figure(path.stem) or figure
        if figure.exists():
            figures[f"gallery/{path.stem}.png"] = figure
            body += [f"![{path.stem}]({path.stem}.png)", ""]
        else:
            body += ["*(figure not built here: run `python tools/build_gallery.py`)*", ""]
        pages[f"gallery/{path.stem}.md"] = "\n".join(body)
        index.append(f"* [{title.rstrip('.')}]({path.stem}.md)")
    pages["gallery/index.md"] = "\n".join(index) + "\n"
    return pages, figures


def on_files(files, config):
    """Add the generated pages (and the gallery's figures) to the site."""
    gallery, figures = gallery_pages()
    for path, text in {**api_pages(), **benchmark_pages(), **gallery}.items():
        files.append(File.generated(config, path, content=text))
    for path, figure in figures.items():
        files.append(File.generated(config, path, abs_src_path=str(figure)))
    return files


def on_post_build(config):
    shutil.rmtree(Path(config["site_dir"]) / "site", ignore_errors=True)  # this folder's own hooks, if copied
