"""`import pysciml` is cheap and engine-free."""

import json
import subprocess
import sys


def _modules_after(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_loads_no_engine():
    mods = _modules_after("import pysciml")
    for heavy in ("jax", "jaxlib", "diffrax", "equinox", "juliacall", "xarray", "sympy", "torch"):
        assert heavy not in mods, f"import pysciml imported {heavy}"


def test_model_declaration_loads_no_engine():
    code = (
        "import pysciml as ps\n"
        "m = ps.ODEModel(lambda u, p, t, m: -p.k * u, ['y'], {'k': 1.0},"
        " networks={'nn': ps.MLP(1, 1)})\n"
        "s = ps.Rodas5P(); ps.Status.SUCCESS"
    )
    mods = _modules_after(code)
    assert "jax" not in mods and "juliacall" not in mods


def test_public_names_resolve():
    import pysciml as ps

    for name in ps.__all__:
        assert getattr(ps, name) is not None


def _gradient_dtype(first: str, second: str, env_x64: str | None = None) -> str:
    """dtype and value of the first ``jax.grad`` through ``ps.solve`` in a fresh process."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    if env_x64 is not None:
        env["JAX_ENABLE_X64"] = env_x64
    code = (
        f"{first}\n{second}\n"
        "m = ps.ODEModel(lambda u, p, t, mm: [-p.k * u[0]], ['y'], {'k': 0.5})\n"
        "g = jax.grad(lambda k: ps.solve(m, [1.0], (0.0, 1.0), params={'k': k},"
        " rtol=1e-12, atol=1e-12).u[-1, 0])(0.5)\n"
        "print(g.dtype, repr(float(g)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return out.stdout.split()


def test_the_first_gradient_is_float64_whichever_is_imported_first():
    """jax's 64-bit mode is on before the first jax call, not only once the engine loads."""
    import math

    exact = -math.exp(-0.5)  # d/dk exp(-k) at k = 0.5, t = 1
    for first, second in (("import jax", "import pysciml as ps"), ("import pysciml as ps", "import jax")):
        dtype, value = _gradient_dtype(first, second)
        assert dtype == "float64", (first, second)
        assert abs(float(value) - exact) < 1e-10
    # negative control: without pysciml's switch (jax alone, as the engine used to find it before
    # its first solve) the first gradient is float32 and wrong in the 7th digit
    env = {k: v for k, v in __import__("os").environ.items() if k != "JAX_ENABLE_X64"}
    code = "import jax; g = jax.grad(lambda k: jax.numpy.exp(-k))(0.5); print(g.dtype, repr(float(g)))"
    dtype, value = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                  env=env).stdout.split()
    assert dtype == "float32" and abs(float(value) - exact) > 1e-9
