"""Static checks of the Julia side that need no Julia.

* every ``.jl`` file parses with tree-sitter-julia and is clean under ``fatou lint``
  and ``fatou format --check``;
* ``pysciml/juliapkg.json`` and ``julia_env/Project.toml`` agree (names, UUIDs,
  compat), the UUIDs are the registered ones, and the bridge path resolves the
  way juliapkg resolves it, in a checkout and in a built wheel;
* the tables the Python side shares with the Julia side agree (status codes,
  counters, solver names, activations, adjoints, emitted helper functions);
* the flat parameter layout <-> Lux permutation and the bound transforms.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pysciml as ps
from pysciml.engines.julia import mapping

try:
    import tomllib
except ImportError:  # Python 3.10: pytest depends on tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
JULIA_ENV = ROOT / "julia_env"
JL_FILES = sorted(JULIA_ENV.rglob("*.jl"))
PROJECT = tomllib.loads((JULIA_ENV / "Project.toml").read_text())
JULIAPKG = json.loads((ROOT / "pysciml" / "juliapkg.json").read_text())
STDLIBS = {"LinearAlgebra", "Logging", "Random", "SparseArrays", "Test"}
SRC = "\n".join(p.read_text() for p in sorted((JULIA_ENV / "src").glob("*.jl")))

#: registered UUIDs (General registry; OrdinaryDiffEq sub-libraries read from each
#: lib/<name>/Project.toml of SciML/OrdinaryDiffEq.jl)
REGISTERED = {
    "ADTypes": "47edcb42-4c32-4615-8424-f2b9edc5f35b",
    "ChainRulesCore": "d360d2e6-b24c-11e9-a2a3-2a2ae2dbcce4",
    "ComponentArrays": "b0b7db55-cfe3-40fc-9ded-d10e2dbeff66",
    "ForwardDiff": "f6369f11-7733-5829-9624-2563aa707210",
    "LineSearches": "d3d80556-e9d4-5f37-9878-2ab0fcc64255",
    "LinearAlgebra": "37e2e46d-f89d-539d-b4ee-838fcccc9c8e",
    "LinearSolve": "7ed4a6bd-45f5-4d41-b270-4a48e9bafcae",
    "Logging": "56ddb016-857b-54e1-b83d-db4d58db5568",
    "Lux": "b2108857-7c20-44ae-9111-449ecde12c47",
    "Optimization": "7f7a1694-90dd-40f0-9382-eb1efda571ba",
    "OptimizationOptimJL": "36348300-93cb-4f02-beb5-3c3902f8871e",
    "OptimizationOptimisers": "42dfb2eb-d2b4-4451-abcd-913932933ac1",
    "OrdinaryDiffEqBDF": "6ad6398a-0878-4a85-9266-38940aa047c8",
    "OrdinaryDiffEqDefault": "50262376-6c5a-4cf5-baba-aaf4f84d72d7",
    "OrdinaryDiffEqHighOrderRK": "d28bc4f8-55e1-4f49-af69-84c1a99f0f58",
    "OrdinaryDiffEqLowOrderRK": "1344f307-1e59-4825-a18e-ace9aa3fa4c6",
    "OrdinaryDiffEqRosenbrock": "43230ef6-c299-4910-a778-202eb28ce4ce",
    "OrdinaryDiffEqSDIRK": "2d112036-d095-4a1e-ab9a-08536f3ecdbf",
    "OrdinaryDiffEqTsit5": "b1df2697-797e-41e3-8120-5422d3b24e4a",
    "OrdinaryDiffEqVerner": "79d7bb75-1356-48c1-b8c0-6832512096c2",
    "PrecompileTools": "aea7be01-6a6a-4083-8856-8a6e6704d82a",
    "Random": "9a3f8284-a2c9-5f02-9a11-845980a1fd5c",
    "SciMLBase": "0bca4576-84f4-4d90-8ffe-ffa030f20462",
    "SciMLSensitivity": "1ed8b502-d754-442c-8d5d-10ac956f44a1",
    "SparseArrays": "2f01184e-e22b-5df5-ae63-d93ebab69eaf",
    "Test": "8dfed614-e22c-5e08-85e1-65c5234f0b40",
    "Zygote": "e88e6eb3-aa80-5325-afca-941959d7151f",
}


# -- parse and lint ---------------------------------------------------------------------------
def test_julia_files_exist():
    names = {p.relative_to(JULIA_ENV).as_posix() for p in JL_FILES}
    assert {"src/PySciMLBridge.jl", "test/runtests.jl"} <= names
    for inc in re.findall(r'include\("([^"]+)"\)', (JULIA_ENV / "src" / "PySciMLBridge.jl").read_text()):
        assert (JULIA_ENV / "src" / inc).is_file(), inc


@pytest.mark.parametrize("path", JL_FILES, ids=[p.name for p in JL_FILES])
def test_tree_sitter_parses(path):
    ts = pytest.importorskip("tree_sitter")
    tsj = pytest.importorskip("tree_sitter_julia")
    tree = ts.Parser(ts.Language(tsj.language())).parse(path.read_bytes())

    def bad(node):
        out = [node] if node.type == "ERROR" or node.is_missing else []
        for c in node.children:
            out += bad(c)
        return out

    errors = bad(tree.root_node)
    assert not errors, [(e.start_point, path.read_bytes()[e.start_byte:e.end_byte][:80]) for e in errors]


def _fatou(*args):
    exe = shutil.which("fatou")
    if exe is None:
        pytest.skip("fatou is not installed (pip install fatou)")
    return subprocess.run([exe, *args, "--color", "never", str(JULIA_ENV)], capture_output=True, text=True)


def test_fatou_lint():
    res = _fatou("lint")
    assert res.returncode == 0, res.stdout + res.stderr


def test_fatou_format_check():
    res = _fatou("format", "--check")
    assert res.returncode == 0, res.stdout + res.stderr


# -- package metadata ------------------------------------------------------------------------
def test_project_and_juliapkg_agree():
    pkgs = JULIAPKG["packages"]
    bridge = pkgs["PySciMLBridge"]
    assert PROJECT["name"] == "PySciMLBridge" and bridge["uuid"] == PROJECT["uuid"]
    assert bridge["dev"] is True and bridge["path"] == "julia_env"
    assert JULIAPKG["julia"] == PROJECT["compat"]["julia"] == "1.10"
    deps = {k: v for k, v in PROJECT["deps"].items() if k not in STDLIBS}
    assert set(pkgs) - {"PySciMLBridge"} == set(deps)
    for name, uuid in deps.items():
        assert pkgs[name]["uuid"] == uuid, name
        assert pkgs[name]["version"] == PROJECT["compat"][name], name


def test_uuids_are_the_registered_ones():
    for table in (PROJECT["deps"], PROJECT.get("extras", {})):
        for name, uuid in table.items():
            assert REGISTERED[name] == uuid, name
    assert set(PROJECT["compat"]) >= set(PROJECT["deps"]) | set(PROJECT.get("extras", {})) | {"julia"}


def test_every_used_package_is_a_dependency():
    used = set(re.findall(r"^using (\w+)", SRC, flags=re.M))
    assert used <= set(PROJECT["deps"]), used - set(PROJECT["deps"])
    tests = (JULIA_ENV / "test" / "runtests.jl").read_text()
    used_t = set(re.findall(r"^using (\w+)", tests, flags=re.M)) - {"PySciMLBridge"}
    assert used_t <= set(PROJECT["deps"]) | set(PROJECT["extras"]), used_t


def test_juliapkg_resolves_the_bridge_path():
    """juliapkg (pure Python, no Julia) finds pysciml/juliapkg.json and the bridge directory."""
    pytest.importorskip("juliapkg")
    code = (
        "import juliapkg.deps as d, json\n"
        "c, pkgs = d.find_requirements()\n"
        "print(json.dumps({p.name: [p.uuid, p.path, p.dev] for p in pkgs}))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHON_JULIAPKG_OFFLINE": "yes"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout.strip().splitlines()[-1])
    uuid, path, dev = found["PySciMLBridge"]
    assert uuid == PROJECT["uuid"] and dev
    assert tomllib.loads((Path(path) / "Project.toml").read_text())["uuid"] == PROJECT["uuid"]


def test_wheel_carries_julia_env_once():
    """The wheel copies julia_env to pysciml/julia_env; the checkout's symlink there must be excluded.

    hatchling follows symlinks, so without the ``/pysciml/julia_env`` line in .gitignore
    (or an ``exclude`` in the wheel target) every bridge file would be added twice.
    """
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel.get("force-include", {}).get("julia_env") == "pysciml/julia_env"
    link = ROOT / "pysciml" / "julia_env"
    assert link.is_symlink() and (link / "Project.toml").is_file()
    ignored = [ln.strip().strip("/") for ln in (ROOT / ".gitignore").read_text().splitlines()]
    excluded = [e.strip("/") for e in wheel.get("exclude", [])]
    assert "pysciml/julia_env" in ignored + excluded


@pytest.mark.slow
def test_built_wheel_resolves_bridge_path(tmp_path):
    """Build the wheel and check juliapkg's path resolution inside the unpacked wheel."""
    pytest.importorskip("hatchling")
    if not (ROOT / "README.md").is_file():
        pytest.skip("README.md missing: the wheel cannot be built from this tree")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                          "-w", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    import zipfile

    (whl,) = tmp_path.glob("*.whl")
    site = tmp_path / "site"
    zipfile.ZipFile(whl).extractall(site)
    spec = json.loads((site / "pysciml" / "juliapkg.json").read_text())["packages"]["PySciMLBridge"]
    target = (site / "pysciml" / spec["path"]).resolve()
    assert tomllib.loads((target / "Project.toml").read_text())["uuid"] == PROJECT["uuid"]
    assert (target / "src" / "PySciMLBridge.jl").is_file()


# -- tables shared with Julia -----------------------------------------------------------------
def test_status_codes_match():
    consts = dict(re.findall(r"const STATUS_(\w+) = (\d+)", SRC))
    assert {k: int(v) for k, v in consts.items()} == {s.name: int(s) for s in ps.Status}
    for rc, status in mapping.RETCODE_STATUS.items():
        if status != ps.Status.SUCCESS:
            assert re.search(rf"rc == ReturnCode\.{rc} && return STATUS_{status.name}", SRC), rc


def test_stat_names_match():
    (names,) = re.findall(r"const STAT_NAMES = \(([^)]*)\)", SRC)
    assert tuple(re.findall(r'"(\w+)"', names)) == mapping.STAT_NAMES


def test_solver_names_match():
    """Every solver the julia engine offers names an algorithm make_alg builds."""
    from pysciml.solvers.catalog import SOLVER_CLASSES

    jl = set(re.findall(r'name == "(\w+)" && return', SRC))
    offered = {c.julia_method for c in SOLVER_CLASSES if "julia" in c.engines}
    assert offered <= jl
    assert all(c.julia_method for c in SOLVER_CLASSES if "julia" in c.engines)


def test_activations_match():
    jl = set(re.findall(r'"(\w+)" => act_\w+', SRC))
    assert jl == set(ps.networks.ACTIVATIONS)


def test_adjoints_and_vjps_match():
    from pysciml.solvers import adjoints

    kinds = set(re.findall(r'kind == "(\w+)"', SRC))
    offered = {c.julia_sensealg for c in vars(adjoints).values() if isinstance(c, type)
               and issubclass(c, adjoints.Adjoint)}
    assert offered <= kinds
    vjps = set(re.findall(r'vjp == "(\w+)" && return', SRC))
    assert vjps == set(mapping.VJPS)


def test_emitted_helpers_exist():
    from helpers.julia_models import example_models

    from pysciml.engines.julia.emit import program_for

    used = set()
    for _, model in example_models()[0]:
        used |= set(re.findall(r"\bB\.(\w+)", program_for(model).source))
    assert {"net_apply", "stack_along"} <= used
    defined = set(re.findall(r"^function (\w+)\(", SRC, flags=re.M)) | \
        set(re.findall(r"^(\w+)\([^)]*\) =", SRC, flags=re.M))
    helpers = {"nan_sqrt", "nan_log", "nan_log1p", "nan_asin", "nan_acos", "nan_pow", "fill_to",
               "stack_along", "net_apply", "laplacian", "advect", "gradient", "divergence"}
    assert used | helpers <= defined, (used | helpers) - defined


# -- layout and transforms --------------------------------------------------------------------
@pytest.mark.parametrize("mlp", [ps.MLP(2, 3, width=4, depth=2), ps.MLP(1, 1, width=5, depth=0),
                                 ps.MLP(3, 2, width=7, depth=1)])
def test_lux_permutation(mlp):
    """Lux flat (each weight column-major, then bias) == ours[perm] (row-major weight, then bias)."""
    theta = np.random.default_rng(1).normal(size=mlp.n_params + 3)[3:]
    perm = mapping.lux_permutation(mlp)
    lux = np.concatenate([np.concatenate([np.asarray(w).ravel(order="F"), b]) for w, b in mlp.unflatten(theta)])
    np.testing.assert_array_equal(theta[perm], lux)
    assert sorted(perm) == list(range(mlp.n_params))
    shifted = mapping.lux_permutation(mlp, offset=3)
    np.testing.assert_array_equal(shifted, perm + 3)


def test_flat_theta_roundtrip():
    model = ps.ODEModel(lambda u, p, t, m: [u[0]], ["a"], {"k": 1.0, "A": np.arange(6.0).reshape(2, 3)},
                        networks={"nn": ps.MLP(1, 1, width=3, depth=1)})
    nets = model.init_networks()
    theta = mapping.flat_theta(model, model.default_params(), nets)
    assert theta.shape == (1 + 6 + model.networks["nn"].n_params,)
    np.testing.assert_array_equal(theta[1:7], np.arange(6.0))
    params, nn = mapping.split_theta(model, theta)
    np.testing.assert_array_equal(params["A"], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(nn["nn"], nets["nn"])


def test_bound_transforms():
    kind = np.array([0, 1, 2, 3, 1, 3])
    lo = np.array([0.0, 2.0, 0.0, -1.0, -5.0, 10.0])
    hi = np.array([0.0, 0.0, 3.0, 4.0, 0.0, 11.0])
    z = np.linspace(-30, 30, 61)
    for k, a, b in zip(kind, lo, hi):
        x = mapping.to_natural(np.full_like(z, k, dtype=int), a, b, z)
        if k == 1:
            assert np.all(x >= a)
        if k == 2:
            assert np.all(x <= b)
        if k == 3:
            assert np.all((x >= a) & (x <= b))
        mid = np.abs(z) < 15
        back = mapping.to_unconstrained(np.full_like(z, k, dtype=int), a, b, x)
        np.testing.assert_allclose(back[mid], z[mid], rtol=1e-6, atol=1e-6)
    # values on a bound map to finite coordinates
    assert np.all(np.isfinite(mapping.to_unconstrained(kind[1:4], lo[1:4], hi[1:4], np.array([2.0, 3.0, 4.0]))))


def test_bound_arrays():
    model = ps.ODEModel(lambda u, p, t, m: [u[0]], ["a"],
                        {"a": ps.Param(1.0, bounds=(0, None)), "b": ps.Param(1.0, bounds=(None, 2)),
                         "c": ps.Param([0.5, 0.6], bounds=(0, 1)), "d": ps.Param(3.0, fixed=True)})
    kind, lo, hi, free = mapping.bound_arrays(model)
    assert list(kind) == [1, 2, 3, 3, 0] and list(free) == [True, True, True, True, False]
    assert list(lo[:4]) == [0, 0, 0, 0] and list(hi[1:4]) == [2, 1, 1]


def test_ci_workflow_runs_the_julia_checks():
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    assert "julia-actions/setup-julia" in text and "PYSCIML_TEST_JULIA" in text
    assert "Pkg.test()" in text and "--project=julia_env" in text
    yaml = pytest.importorskip("yaml")
    doc = yaml.safe_load(text)
    assert len(doc["jobs"]) >= 2


# -- grid.jl, transliterated line by line to numpy on the reversed layout --------------------
# A numpy field (..., ny, nx) is the Julia array (nx, ny, ...): x is dimension 1, y dimension 2
# (axes 0 and 1 below). The coefficient arrays are transposed as make_axis / make_grid do.
# Comparing with pysciml.grid's numpy reference checks the dimension bookkeeping of grid.jl.
def _jl_ops(grid):
    ops = grid.coefficients

    def axis(a):
        return dict(kind=a.kind, value=a.value, sign=float(a.sign), length=np.asarray(a.length).T,
                    conductance=np.asarray(a.conductance).T, inv_distance=np.asarray(a.inv_distance).T,
                    face_weight=np.asarray(a.face_weight).T, centre_weight=np.asarray(a.centre_weight).T,
                    pole=tuple(a.pole), pole_shift=int(a.pole_shift))

    return dict(y=axis(ops.y), x=axis(ops.x), inv_area=np.asarray(ops.inv_area).T,
                mask=None if ops.mask is None else np.asarray(ops.mask).T)


def _sl(f, start, stop, d):  # selectdim(f, d, start:stop), 1-based inclusive
    return np.take(f, np.arange(start - 1, stop), axis=d - 1)


def _bc(a, f):  # Julia broadcasting aligns leading dimensions
    a = np.asarray(a)
    return a.reshape(a.shape + (1,) * (np.ndim(f) - a.ndim)) if np.ndim(f) > a.ndim else a


def _faces(f, d, a, scalar, pole):
    n = f.shape[d - 1]
    first, last = _sl(f, 1, 1, d), _sl(f, n, n, d)
    if a["kind"] == "periodic":
        lo, hi = (last, first), (last, first)
    elif a["kind"] == "dirichlet" and scalar:
        g = np.full(first.shape, a["value"])
        lo, hi = (g, first), (last, g)
    else:
        lo, hi = (first, first), (last, last)
    if pole and a["pole_shift"] != 0:
        roll = (lambda v: np.roll(v, a["pole_shift"], axis=0))  # circshift along dimension 1 (x)
        if a["pole"][0]:
            lo = (roll(first), first)
        if a["pole"][1]:
            hi = (last, roll(last))
    left = np.concatenate([lo[0], _sl(f, 1, n - 1, d), hi[0]], axis=d - 1)
    right = np.concatenate([lo[1], _sl(f, 2, n, d), hi[1]], axis=d - 1)
    return left, right


def _net(F, d):
    n = F.shape[d - 1] - 1
    return _sl(F, 2, n + 1, d) - _sl(F, 1, n, d)


def _masked(f, g):
    return f if g["mask"] is None else np.where(_bc(g["mask"], f), f, 0.0)


def _interp(l, r, a):
    w = _bc(a["face_weight"], l)
    return w * l + (1 - w) * r


def _field(v, g):
    return np.full(g["inv_area"].shape, float(v)) if np.ndim(v) == 0 else v


def jl_laplacian(f, g):
    f = _masked(f, g)
    ly, ry = _faces(f, 2, g["y"], True, False)
    lx, rx = _faces(f, 1, g["x"], True, False)
    net = _net(_bc(g["y"]["conductance"], ry) * (ry - ly), 2) + _net(_bc(g["x"]["conductance"], rx) * (rx - lx), 1)
    return net * _bc(g["inv_area"], net)


def _advect_axis(f, vel, d, a, g, scheme):
    vel = _masked(a["sign"] * _field(vel, g), g)
    vl, vr = _faces(vel, d, a, False, False)
    vface = _interp(vl, vr, a)
    l, r = _faces(f, d, a, True, False)
    vface = _bc(vface, l)
    fface = np.where(vface >= 0, l, r) if scheme == "upwind" else _interp(l, r, a)
    return _net(_bc(a["length"], fface) * vface * fface, d)


def jl_advect(f, u, v, g, scheme):
    f = _masked(f, g)
    net = _advect_axis(f, v, 2, g["y"], g, scheme) + _advect_axis(f, u, 1, g["x"], g, scheme)
    return -net * _bc(g["inv_area"], net)


def _gradient_axis(f, d, a):
    l, r = _faces(f, d, a, True, True)
    G = _bc(a["inv_distance"], l) * (r - l)
    n = f.shape[d - 1]
    w = _bc(a["centre_weight"], f)
    return a["sign"] * (w * _sl(G, 1, n, d) + (1 - w) * _sl(G, 2, n + 1, d))


def jl_gradient(f, g):
    f = _masked(f, g)
    return _gradient_axis(f, 2, g["y"]), _gradient_axis(f, 1, g["x"])


def jl_divergence(fy, fx, g):
    def axis(c, d, a):
        c = _masked(a["sign"] * _field(c, g), g)
        cl, cr = _faces(c, d, a, False, False)
        return _net(_bc(a["length"], cl) * _interp(cl, cr, a), d)

    net = axis(fy, 2, g["y"]) + axis(fx, 1, g["x"])
    return net * _bc(g["inv_area"], net)


def _grids():
    grid = pytest.importorskip("pysciml.grid")
    mask = np.ones((6, 9), bool)
    mask[2, 4] = mask[0, 0] = False
    lat = np.linspace(-80, 80, 9)
    return [
        grid.RegularGrid((5, 7), spacing=(0.5, 0.3), periodic=(True, False)),
        grid.RegularGrid((6, 9), spacing=1.0, boundary="dirichlet", boundary_value=(0.2, -0.4), mask=mask),
        grid.LatLonGrid(lat=np.linspace(-87.5, 87.5, 8), lon=np.arange(0, 360, 30.0)),
        grid.LatLonGrid(lat=lat, lon=np.arange(10, 100, 10.0), radius=1.0),
    ]


def test_grid_jl_transliteration_matches_pysciml_grid():
    from pysciml import grid as G

    rng = np.random.default_rng(3)
    for g in _grids():
        gj = _jl_ops(g)
        f = rng.normal(size=(2,) + g.shape)      # a leading batch axis too
        u, v = rng.normal(size=g.shape), rng.normal(size=g.shape)
        fj = f.T
        np.testing.assert_allclose(jl_laplacian(fj, gj), G.laplacian_numpy(f, g).T, rtol=1e-12, atol=1e-12)
        for scheme in ("upwind", "centered"):
            np.testing.assert_allclose(jl_advect(fj, u.T, v.T, gj, scheme),
                                       G.advect_numpy(f, (u, v), g, scheme=scheme).T, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(jl_advect(fj, 0.7, -0.2, gj, scheme),
                                       G.advect_numpy(f, (0.7, -0.2), g, scheme=scheme).T, rtol=1e-12,
                                       atol=1e-12)
        dy, dx = jl_gradient(fj, gj)
        ry, rx = G.gradient_numpy(f, g)
        np.testing.assert_allclose(dy, ry.T, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, rx.T, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(jl_divergence(u.T, v.T, gj), G.divergence_numpy((u, v), g).T,
                                   rtol=1e-12, atol=1e-12)


def test_grid_jl_mirrors_the_transliteration():
    """The Julia source has the statements the transliteration above mirrors."""
    src = (JULIA_ENV / "src" / "grid.jl").read_text()
    for needle in ("const XDIM = 1", "const YDIM = 2", "_sl(f, 1:(n - 1), d)", "_sl(f, 2:n, d)",
                   "circshift(a, ntuple(i -> i == XDIM ? s : 0, ndims(a)))",
                   "_faces(f, YDIM, g.y, true, false)", "_faces(vel, d, a, false, false)",
                   "_faces(f, d, a, true, true)", "ifelse.(vface .>= 0, l, r)",
                   "return .-net .* g.inv_area", "_rev2(a) = permutedims(Matrix{Float64}(a))"):
        assert needle in src, needle


# -- precompile safety and bindings (issue 13: what a first real run would have hit) ----------
def _roots():
    from helpers import julia_lint

    return {p.name: julia_lint.parse(p.read_text()) for p in sorted((JULIA_ENV / "src").glob("*.jl"))}


_OLD_OBSERVATIONS = """
struct Observations
    t0s::Vector{Float64}
    ts::Matrix{Float64}
    ys::Array{Float64, 3}
    mask::Array{Bool, 3}
    scale::Vector{Float64}
end
function Observations(t0s, ts, ys, mask, scale)
    return Observations(Vector{Float64}(t0s), Matrix{Float64}(ts), Array{Float64, 3}(ys),
                        Array{Bool, 3}(mask), Vector{Float64}(scale))
end
"""


def test_no_method_redefines_a_struct_default_constructor():
    """Julia >= 1.10 refuses to overwrite a method during precompilation (the package never loads)."""
    from helpers import julia_lint

    found = {name: julia_lint.constructor_overwrites(root) for name, root in _roots().items()}
    assert {k: v for k, v in found.items() if v} == {}
    # the checks see what they check: every struct, and the constructors that differ in arity
    names = {s.name for root in _roots().values() for s in julia_lint.structs(root)}
    assert {"Observations", "Stage", "LossSetup", "FitState", "NetSpec"} <= names


def test_constructor_lint_can_fail():
    """Negative control: the Observations method the review found, and a typed twin, are flagged."""
    from helpers import julia_lint

    assert len(julia_lint.constructor_overwrites(julia_lint.parse(_OLD_OBSERVATIONS))) == 1
    typed = "struct S\n    a::Int\n    b\nend\nS(a::Int, b) = S(a, b)\nS(a) = S(a, 0)\nS(; a = 1) = S(a, 0)\n"
    assert len(julia_lint.constructor_overwrites(julia_lint.parse(typed))) == 1


def test_every_package_name_used_is_bound():
    """A package used as a name (``SciMLSensitivity`` in bridge_info) must be bound, not only its exports."""
    from helpers import julia_lint

    roots = list(_roots().values())
    packages = set(PROJECT["deps"]) | {"PythonCall"}
    assert julia_lint.unbound_module_names(roots, packages) == []
    used = {julia_lint.text(n) for r in roots for n in julia_lint.walk(r) if n.type == "identifier"}
    assert "SciMLSensitivity" in used and "SciMLSensitivity" in set().union(*map(julia_lint.bound_names, roots))


def test_binding_lint_can_fail():
    """Negative control: the review's case (selected names only, then the module itself used)."""
    from helpers import julia_lint

    src = ("using SciMLSensitivity: GaussAdjoint, ZygoteVJP\nusing Lux: Lux\nusing Zygote\n"
           "f() = (SciMLSensitivity, Lux, Zygote.gradient, GaussAdjoint())\n")
    found = julia_lint.unbound_module_names([julia_lint.parse(src)], {"SciMLSensitivity", "Lux", "Zygote"})
    assert len(found) == 1 and "SciMLSensitivity" in found[0]


def test_report_calls_match_the_python_wrapper():
    """fit.jl calls ``report`` with as many arguments as bridge.py's closure takes (a MethodError otherwise)."""
    from helpers import julia_lint

    from pysciml.engines.julia.bridge import REPORT_ARGS, REPORT_WRAPPER

    assert julia_lint.closure_arity(julia_lint.parse(REPORT_WRAPPER)) == [len(REPORT_ARGS)]
    calls = julia_lint.calls_to(_roots()["fit.jl"], "report")
    assert calls and {n for _, n in calls} == {len(REPORT_ARGS)}, calls


def test_precompile_workload_is_guarded():
    """An exception escaping @compile_workload fails precompilation; the workload warns instead."""
    from helpers import julia_lint

    from pysciml.engines.julia.sysimage import SYSIMAGE_WORKLOAD

    roots = _roots()
    guarded = set().union(*(julia_lint.guarded_functions(r) for r in roots.values()))
    body = [n for n in julia_lint.macro_bodies(roots["precompile.jl"], "compile_workload")
            if n.type == "compound_statement"]
    assert len(body) == 1
    stmts = [c for c in body[0].children if c.type not in ("begin", "end", "line_comment")]
    assert [s.type for s in stmts] == ["call_expression"], "the workload must be one guarded call"
    called = julia_lint.text(stmts[0].children[0])
    assert called in guarded, f"{called} is not a function whose body is try ... catch ... end"
    assert f"PySciMLBridge.{called}()" in SYSIMAGE_WORKLOAD  # the sysimage build runs the same guard
    # negative control: an unguarded body is seen as such
    assert "_workload" not in guarded


def test_fit_supplies_its_own_gradients():
    """No AD backend is handed a loss that can be constant (Zygote's ``nothing`` crashes DI's ``copyto!``)."""
    from helpers import julia_lint

    src = SRC
    assert "AutoZygote" not in src and "AutoForwardDiff" not in src
    root = _roots()["fit.jl"]
    for n in julia_lint.walk(root):
        if n.type == "call_expression" and julia_lint.text(n.children[0]).endswith("OptimizationFunction"):
            names = {julia_lint.text(a.children[0]) for a in julia_lint.walk(n) if a.type == "named_argument"}
            assert {"grad", "fg"} <= names, julia_lint.text(n)
    # every Zygote gradient is checked for `nothing` in the function that takes it
    for name, r in _roots().items():
        for n in julia_lint.walk(r):
            if n.type == "function_definition" and "Zygote.withgradient" in julia_lint.text(n):
                assert "=== nothing" in julia_lint.text(n) or "!== nothing" in julia_lint.text(n), name


def test_stage_tuple_matches_the_struct():
    """The stage tuples training.py sends have the fields of ``struct Stage`` in order."""
    from helpers import julia_lint
    from helpers.fake_julia_bridge import STAGE_FIELDS

    from pysciml.engines.julia.training import fit_stages

    (stage,) = [s for s in julia_lint.structs(_roots()["fit.jl"]) if s.name == "Stage"]
    assert len(stage.fields) == len(STAGE_FIELDS)
    fields = re.search(r"struct Stage\n(.*?)\nend", SRC, flags=re.S).group(1)
    assert [ln.split("::")[0].strip() for ln in fields.splitlines()] == list(STAGE_FIELDS)
    stages, _ = fit_stages(ps.GrowingHorizon(stages=1, steps=2), (ps.Adam(0.1, steps=3), ps.LBFGS(steps=4, tol=1e-7)))
    assert all(len(s) == len(STAGE_FIELDS) for s in stages)
    assert dict(zip(STAGE_FIELDS, stages[-1]))["tol"] == 1e-7  # LBFGS.tol reaches Optim's g_abstol
    assert "g_abstol = st.tol" in SRC


# -- fit.jl's Adam stage, transliterated to numpy and run against the jax engine's Adam ---------------
# Optimisers.jl 0.4.8 (rules.jl): Adam keeps (mt, vt, βt), βt starting at β and multiplied by β
# after every step; ClipNorm(ω; throw = false) scales the gradient by min(ω / ‖g‖₂, 1).
def _jl_schedule_factor(schedule, steps, f, k):
    n = float(steps)
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return f + (1 - f) * 0.5 * (1 + np.cos(np.pi * min(k / n, 1.0)))
    if schedule == "exponential":
        return f ** min(k / n, 1.0)
    warm = max(1.0, 0.05 * n)
    if k < warm:
        return (k + 1) / warm
    x = np.clip((k - warm) / max(n - warm, 1.0), 0.0, 1.0)
    return f + (1 - f) * 0.5 * (1 + np.cos(np.pi * x))


def _jl_adam_stage(value_and_gradient, x0, lr, steps, clip, schedule, final_fraction):
    """adam_stage! line by line: history, rejected steps and the best point of the stage."""
    beta, eps = (0.9, 0.999), 1e-8
    x = x0.copy()
    ost = (np.zeros_like(x), np.zeros_like(x), beta)          # Optimisers.setup(_adam_rule(st), x)
    good_x, good_ost, scale = x, ost, 1.0
    history, rejected, stage_min, best_x = [], [], np.inf, x0.copy()
    for j in range(steps):
        lf, g = value_and_gradient(x)                           # _value_and_gradient(loss, x)
        history.append(lf)                                      # _record!
        if np.isfinite(lf) and lf < stage_min:
            stage_min, best_x = lf, x.copy()
        if g is None:
            rejected.append(len(history))
            x, ost = good_x, good_ost
            scale *= 0.5
        else:
            eta = lr * _jl_schedule_factor(schedule, steps, final_fraction, j) * scale  # Optimisers.adjust
            good_x, good_ost = x, ost
            if clip > 0:                                        # ClipNorm, then Adam (Optimisers.update)
                g = g * min(clip / np.linalg.norm(g), 1.0)
            mt, vt, bt = ost
            mt = beta[0] * mt + (1 - beta[0]) * g
            vt = beta[1] * vt + (1 - beta[1]) * g**2
            dx = mt / (1 - bt[0]) / (np.sqrt(vt / (1 - bt[1])) + eps) * eta
            ost = (mt, vt, (bt[0] * beta[0], bt[1] * beta[1]))
            x = x - dx
            scale = min(1.0, 1.01 * scale)
    return np.array(history), rejected, best_x


def test_fit_jl_mirrors_the_adam_transliteration():
    src = (JULIA_ENV / "src" / "fit.jl").read_text()
    for needle in ("for j in 0:(st.steps - 1)", "lf, g = _value_and_gradient(loss, x)", "_record!(state, st, k, lf, x)",
                   "x, ost = good_x, good_ost", "scale *= 0.5",
                   "ost = Optimisers.adjust(ost, st.lr * schedule_factor(st, j) * scale)",
                   "good_x, good_ost = x, ost", "ost, x = Optimisers.update(ost, x, g)",
                   "scale = min(1.0, 1.01 * scale)", "Optimisers.ClipNorm(s.clip; throw = false), adam",
                   "ok = isfinite(lf) && g !== nothing && all(isfinite, g)",
                   "x = clamp((k - warm) / max(n - warm, 1.0), 0.0, 1.0)"):
        assert needle in src, needle


@pytest.mark.parametrize("schedule,clip", [("cosine", 0.0), ("warmup_cosine", 0.5), ("constant", 0.0)])
def test_adam_stage_equals_the_jax_engines_adam(schedule, clip):
    """Same history (one entry per step, schedule from step 0), same rejections, same best point."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from pysciml.engines.jax.training.loops import adam_chunk, hyperparameters

    target = np.array([1.0, -2.0, 0.5])

    def loss_jax(theta, aux):
        val = jnp.sum((theta - target) ** 2 * jnp.array([1.0, 3.0, 0.5]))
        return jnp.where(theta[0] > 0.6, jnp.inf, val)  # a failed solve beyond 0.6

    def value_and_gradient(x):
        val, g = jax.value_and_grad(lambda th: loss_jax(th, ()))(jnp.asarray(x))
        val, g = float(val), np.asarray(g)
        return val, (g if np.isfinite(val) and np.all(np.isfinite(g)) else None)

    steps, lr, x0 = 40, 0.15, np.array([0.2, 0.0, 0.0])
    opt = ps.Adam(lr, steps=steps, schedule=schedule, clip=clip or None, final_fraction=0.1)
    init, chunk = adam_chunk(loss_jax)
    carry, (losses, _, _) = chunk(init(jnp.asarray(x0)), (), jnp.asarray(0), jnp.asarray(steps),
                                  hyperparameters(opt))
    jax_hist, jax_best = np.asarray(losses)[:steps], np.asarray(carry[5])

    hist, rejected, best = _jl_adam_stage(value_and_gradient, x0, lr, steps, clip, schedule, 0.1)
    assert hist.shape == (steps,) and rejected, "the test must exercise rejected steps"
    np.testing.assert_allclose(hist, jax_hist, rtol=1e-10)
    assert [i - 1 for i in rejected] == list(np.nonzero(~np.isfinite(jax_hist))[0])
    np.testing.assert_allclose(best, jax_best, rtol=1e-10, atol=1e-14)


#: compat floors that matter, with where each was read (see docs/julia.md, "Versions checked")
COMPAT_FLOORS = {
    # 7.116.0 allows only LinearSolve 3.86-3 / 4.2-4 (OrdinaryDiffEq.jl issue #4052, whose resolver
    # output names it); 7.116.1 publishes LinearSolve 5 compatibility (SciMLSensitivity.jl PR #1555).
    "SciMLSensitivity": "7.116.1",
    "LinearSolve": "5",
}


def _floor(spec: str) -> tuple[int, ...]:
    return tuple(int(x) for x in spec.split(",")[0].strip().lstrip("^=~").split("."))


def test_compat_floors():
    for name, floor in COMPAT_FLOORS.items():
        for spec in (PROJECT["compat"][name], JULIAPKG["packages"][name]["version"]):
            got, want = _floor(spec), _floor(floor)
            assert got[: len(want)] >= want, (name, spec, floor)


def _bridge_arities() -> dict[str, set[int]]:
    from helpers import julia_lint

    out: dict[str, set[int]] = {}
    for root in _roots().values():
        for m in julia_lint.methods(root):
            out.setdefault(m.name, set()).add(len(m.args))
    return out


def test_python_calls_match_the_bridge_signatures():
    """Every ``bridge.call("name", ...)`` in the engine sends as many arguments as the Julia method takes."""
    import ast

    arities = _bridge_arities()
    seen = {}
    for path in sorted((ROOT / "pysciml" / "engines" / "julia").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "call"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                assert not any(isinstance(a, ast.Starred) for a in node.args), (path.name, node.lineno)
                name, n = node.args[0].value, len(node.args) - 1
                assert n in arities.get(name, set()), (path.name, node.lineno, name, n, arities.get(name))
                seen[name] = n
    assert {"bridge_fit", "bridge_solve", "bridge_loss_and_grad", "compile_model", "make_axis"} <= set(seen)
    assert seen["bridge_fit"] == 28


def test_julia_calls_match_the_bridge_signatures():
    """The precompile workload calls the entry points with their own argument counts."""
    from helpers import julia_lint

    arities = _bridge_arities()
    calls = [(name, line, n) for name in ("bridge_solve", "bridge_loss_and_grad", "bridge_fit", "register_model")
             for line, n in julia_lint.calls_to(_roots()["precompile.jl"], name)]
    assert {c[0] for c in calls} == {"bridge_solve", "bridge_loss_and_grad", "bridge_fit", "register_model"}
    assert [c for c in calls if c[2] not in arities[c[0]]] == []


def test_lbfgs_history_has_at_most_steps_entries():
    """Optim 2.2.1 calls the callback for the initial state and after each of `iterations` iterations
    (optimize.jl), i.e. steps + 1 times; lbfgs_stage!'s callback records at most `steps` of them."""
    src = (JULIA_ENV / "src" / "fit.jl").read_text()
    for needle in ("(!isfinite(lf) || recorded[] >= st.steps) && return true", "recorded[] += 1",
                   "maxiters = st.steps, callback, g_abstol = st.tol"):
        assert needle in src, needle

    def run(steps, losses):
        recorded, history = 0, []

        def callback(lf):  # the Julia callback, line by line
            nonlocal recorded
            if not np.isfinite(lf) or recorded >= steps:
                return True
            recorded += 1
            history.append(lf)
            return False

        if not callback(losses[0]):  # Optim: iteration 0, then while iteration < iterations
            for it in range(1, steps + 1):
                if callback(losses[it]):
                    break
        return history

    losses = [1.0 / (k + 1) for k in range(20)]
    assert run(5, losses) == losses[:5]  # not 6: the entry after the last update is dropped
    assert run(5, [1.0, 0.5, np.inf, 0.1, 0.1, 0.1]) == [1.0, 0.5]  # a non-finite loss stops, unrecorded


def test_auto_solver_reports_its_name():
    """DefaultODEAlgorithm() is a CompositeAlgorithm; the stats name the algorithm the user chose."""
    src = (JULIA_ENV / "src" / "solve.jl").read_text()
    assert "alg_name(s.alg)" in src and 'name === :CompositeAlgorithm ? "DefaultODEAlgorithm"' in src
    assert "nameof(typeof(s.alg))" not in src
