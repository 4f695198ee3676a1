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
