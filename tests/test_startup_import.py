"""``import pysciml`` imports no engine, measured with ``python -X importtime`` in a fresh process.

The import-time log lists the modules the import loads through ``import``
statements (``importlib.import_module`` bypasses it, so ``sys.modules`` at the end
is checked as well); the test fails if any of them belongs to an engine or a heavy
optional dependency.  (The time itself is measured by ``benchmarks/startup.py``;
tests never assert on wall time.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORBIDDEN = ("jax", "jaxlib", "diffrax", "equinox", "optax", "lineax", "optimistix", "juliacall", "juliapkg",
             "xarray", "pandas", "scipy", "sympy", "torch", "pysindy", "matplotlib", "dask")


def importtime(code: str) -> dict[str, tuple[int, int]]:
    """``{module: (self_us, cumulative_us)}`` of everything ``code`` imports in a fresh interpreter
    (modules found only in ``sys.modules`` afterwards get ``(0, 0)``)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code += "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    modules = {name: (0, 0) for name in json.loads(out.stdout.strip().splitlines()[-1])}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cum_us, name = (x.strip() for x in line[len("import time:"):].split("|"))
        if self_us.isdigit():
            modules[name.strip()] = (int(self_us), int(cum_us))
    return modules


def _engine_modules(modules):
    return sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)


def test_import_pysciml_loads_no_engine():
    modules = importtime("import pysciml")
    assert modules["pysciml"][1] > 0  # the log was parsed
    assert _engine_modules(modules) == []


def test_declaring_a_model_and_using_the_cache_api_loads_no_engine():
    code = (
        "import pysciml as ps, pysciml.cache\n"
        "m = ps.UDE(lambda u, p, t, m: [p.k * u[0] + p.nn(u)[0]], ['y'], {'k': 1.0},"
        " networks={'nn': ps.MLP(1, 1)})\n"
        "ps.Rodas5P(); ps.Adam(); ps.cache.info(); ps.cache.entries()\n"
    )
    modules = importtime(code)
    assert {"pysciml.model", "pysciml.cache"} <= set(modules)
    assert _engine_modules(modules) == []


def test_importtime_parser_sees_engines():
    """The check is not vacuous: importing the engine shows up in the same log."""
    modules = importtime("import pysciml.engines.jax.cached_functions")
    assert "jax" in _engine_modules(modules) and modules["jax"][1] > 0
