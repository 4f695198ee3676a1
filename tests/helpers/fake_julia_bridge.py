"""A stand-in for the PySciMLBridge Julia module, for testing the Python half without Julia.

Each method has the signature of the Julia function of the same name
(``julia_env/src/*.jl``), checks the types and shapes of what it is sent as the
Julia method would (raising ``AssertionError`` on a mismatch), records the
call, and returns values of the agreed types and shapes, computed by simple
documented rules so tests can check how the engine unpacks them:

* ``bridge_solve``: ``U[k] = u0 * exp(-(saveat[k] - t0))``, status 0, stats 1..8.
* ``bridge_solve_batch``: the same per cell; cell ``i`` gets status ``i % 2``.
* ``bridge_loss_and_grad``: ``loss = (|theta|^2 + |U0|^2) / 2``, gradients ``theta`` and ``U0``.
* ``bridge_sensitivity``: ``J[i, j, c] = i + j + c`` (``(n_save, n_states, n_wrt)``).
* ``bridge_fit``: steps through ``sum(steps)`` losses ``1/(k+1)`` (``Inf`` at the 1-based
  steps in ``FakeJulia.failing_steps``, which are also returned as rejected), calling
  ``report(step, loss, stage, theta)`` every step (the real bridge rate-limits in time);
  returns ``theta0 * 0.5`` on the free entries and ``U0 + 1`` on the free initial states;
  status 8 (INTERRUPTED) if ``report`` returned True.

:class:`FakeMain` stands in for juliacall's ``Main`` where the bridge evaluates Julia
source (the progress wrapper): it evaluates the one closure form the bridge uses and
enforces Julia's rule that a method is called with exactly its number of arguments.
"""

from __future__ import annotations

import re

import numpy as np

SOLVERS = {"tsit5", "dopri5", "dopri8", "vern7", "rosenbrock23", "rodas4", "rodas5p", "kencarp4",
           "kvaerno5", "fbdf", "qndf", "auto"}
LINSOLVES = {"auto", "dense", "sparse", "gmres"}
ADJOINTS = {"auto", "gauss", "interpolating", "checkpointed", "quadrature", "backsolve", "forward"}
VJPS = {"auto", "zygote", "enzyme", "reversediff", "forwarddiff"}
#: the fields of ``struct Stage`` (julia_env/src/fit.jl), in order
STAGE_FIELDS = ("kind", "lr", "steps", "horizon", "clip", "schedule", "final_fraction", "patience", "min_delta",
                "memory", "tol")
ACTIVATIONS = {"tanh", "relu", "gelu", "softplus", "sigmoid", "swish", "elu", "identity", "rbf"}


def _arr(x, ndim, dtype=np.float64, shape=None, what="array"):
    assert isinstance(x, np.ndarray), f"{what}: expected a numpy array, got {type(x).__name__}"
    assert x.dtype == dtype, f"{what}: dtype {x.dtype}, expected {np.dtype(dtype)}"
    assert x.ndim == ndim, f"{what}: {x.ndim} dims, expected {ndim}"
    if shape is not None:
        assert x.shape == tuple(shape), f"{what}: shape {x.shape}, expected {tuple(shape)}"
    return x


def _int(x, what):
    assert type(x) is int, f"{what}: expected int, got {type(x).__name__}"
    return x


def _float(x, what):
    assert type(x) is float, f"{what}: expected float, got {type(x).__name__}"
    return x


def _str(x, allowed, what):
    assert type(x) is str and x in allowed, f"{what}: {x!r} not in {sorted(allowed)}"
    return x


class JuliaMethodError(TypeError):
    """What calling a Julia function with the wrong number of arguments raises (``MethodError``)."""


_CLOSURE = re.compile(r"(\w+) -> \(([\w, ]*)\) -> PythonCall\.pytruth\(\1\(([\w, ]*)\)\)")


class FakeMain:
    """juliacall's ``Main`` for ``seval`` of ``f -> (a, b, ...) -> PythonCall.pytruth(f(a, b, ...))``.

    The result, like the Julia closure, accepts exactly the declared number of arguments
    (anything else raises :class:`JuliaMethodError`, as Julia's ``MethodError``), passes
    them on in the order the body names them, and returns the Python truth of the result.
    """

    def __init__(self):
        self.sources = []

    def seval(self, source):
        self.sources.append(source)
        m = _CLOSURE.fullmatch(source.strip())
        assert m is not None, f"FakeMain cannot evaluate {source!r}"
        params = [a.strip() for a in m.group(2).split(",") if a.strip()]
        body = [a.strip() for a in m.group(3).split(",") if a.strip()]
        assert set(body) <= set(params), f"{source!r} uses undefined names"

        def outer(f):
            def inner(*args):
                if len(args) != len(params):
                    raise JuliaMethodError(
                        f"MethodError: no method matching ({', '.join(params)}) called with {len(args)} arguments"
                    )
                env = dict(zip(params, args))
                return bool(f(*[env[b] for b in body]))

            inner.arity = len(params)
            return inner

        return outer


class FakeGrid:
    def __init__(self, y, x, inv_area, mask):
        self.y, self.x, self.inv_area, self.mask = y, x, inv_area, mask


class FakeAxis:
    def __init__(self, *args):
        self.args = args


class FakeJulia:
    """The fake PySciMLBridge module (see module docstring)."""

    def __init__(self):
        self.calls = []
        self.models = []
        #: 1-based steps of bridge_fit whose loss is not finite (rejected)
        self.failing_steps: set[int] = set()

    def _model(self, h):
        _int(h, "handle")
        assert 1 <= h <= len(self.models), f"unknown handle {h}"
        return self.models[h - 1]

    # -- models
    def make_axis(self, kind, value, sign, length, conductance, inv_distance, face_weight,
                  centre_weight, pole_lo, pole_hi, pole_shift):
        self.calls.append(("make_axis", kind))
        _str(kind, {"periodic", "neumann", "dirichlet"}, "kind")
        _float(value, "value"), _float(sign, "sign")
        faces = _arr(length, 2, what="length").shape
        for a in (conductance, inv_distance, face_weight):
            _arr(a, 2, shape=faces, what="face array")
        _arr(centre_weight, 2, what="centre_weight")
        assert isinstance(pole_lo, bool) and isinstance(pole_hi, bool)
        _int(pole_shift, "pole_shift")
        return FakeAxis(kind, faces, centre_weight.shape)

    def make_grid(self, y, x, inv_area, mask):
        self.calls.append(("make_grid",))
        assert isinstance(y, FakeAxis) and isinstance(x, FakeAxis)
        cells = _arr(inv_area, 2, what="inv_area").shape
        assert y.args[1] == (cells[0] + 1, cells[1]) and x.args[1] == (cells[0], cells[1] + 1)
        if mask is not None:
            _arr(mask, 2, dtype=bool, shape=cells, what="mask")
        return FakeGrid(y, x, inv_area, mask)

    def compile_model(self, source, hash, n_states, n_phys, nets, consts, grids, has_branches):
        self.calls.append(("compile_model", hash))
        assert isinstance(source, str) and "function rhs!(du, u, p, t, K)" in source
        assert "function rhs(u, p, t, K)" in source
        assert isinstance(hash, str) and re.fullmatch(r"[0-9a-f]{64}", hash)
        _int(n_states, "n_states"), _int(n_phys, "n_phys")
        assert n_states > 0 and n_phys >= 0
        assert isinstance(nets, tuple)
        n_theta = n_phys
        for spec in nets:
            assert isinstance(spec, tuple) and len(spec) == 7, spec
            name, n_in, n_out, width, depth, act, fin = spec
            assert isinstance(name, str) and name.isidentifier()
            for v in (n_in, n_out, width, depth):
                _int(v, "network size")
            assert act in ACTIVATIONS and fin in ACTIVATIONS
            dims = [n_in] + [width] * depth + [n_out]
            n_theta += sum(dims[i + 1] * dims[i] + dims[i + 1] for i in range(len(dims) - 1))
        assert isinstance(consts, tuple) and all(isinstance(c, np.ndarray) and c.dtype == np.float64
                                                 for c in consts)
        assert isinstance(grids, tuple) and all(isinstance(g, FakeGrid) for g in grids)
        assert isinstance(has_branches, bool)
        self.models.append({"source": source, "n_states": n_states, "n_phys": n_phys, "n_theta": n_theta,
                            "nets": nets})
        return len(self.models)

    def bridge_rhs(self, h, u, theta, t):
        m = self._model(h)
        _arr(u, 1, shape=(m["n_states"],), what="u")
        _arr(theta, 1, shape=(m["n_theta"],), what="theta")
        _float(t, "t")
        return (-u.copy(), -u.copy())

    # -- solving
    def _check_solve(self, m, t0, t1, saveat, solver, linsolve, stiff_hint, rtol, atol, dt, maxiters,
                     adaptive, rows, cols):
        _float(t0, "t0"), _float(t1, "t1")
        assert t1 > t0
        _arr(saveat, 1, what="saveat")
        assert np.all(np.diff(saveat) > 0) and saveat[0] >= t0 and saveat[-1] <= t1
        _str(solver, SOLVERS, "solver"), _str(linsolve, LINSOLVES, "linsolve")
        _int(stiff_hint, "stiff_hint")
        assert stiff_hint in (-1, 0, 1)
        if isinstance(atol, np.ndarray):
            _arr(atol, 1, shape=(m["n_states"],), what="atol")
            assert np.all(atol > 0)
        else:
            assert _float(atol, "atol") > 0
        assert _float(rtol, "rtol") > 0 and _float(dt, "dt") >= 0
        assert _int(maxiters, "maxiters") > 0
        assert isinstance(adaptive, bool) and (adaptive or dt > 0)
        _arr(rows, 1, dtype=np.int64, what="rows"), _arr(cols, 1, dtype=np.int64, shape=rows.shape, what="cols")
        if rows.size:
            assert linsolve == "sparse"
            assert rows.min() >= 1 and rows.max() <= m["n_states"] and cols.min() >= 1 and cols.max() <= m["n_states"]

    def bridge_solve(self, h, u0, theta, t0, t1, saveat, solver, linsolve, stiff_hint, rtol, atol, dt,
                     maxiters, adaptive, rows, cols):
        m = self._model(h)
        self.calls.append(("bridge_solve", dict(theta=theta.copy(), solver=solver, linsolve=linsolve,
                                                stiff_hint=stiff_hint, rows=rows.copy(), cols=cols.copy(),
                                                adaptive=adaptive)))
        _arr(u0, 1, shape=(m["n_states"],), what="u0")
        _arr(theta, 1, shape=(m["n_theta"],), what="theta")
        self._check_solve(m, t0, t1, saveat, solver, linsolve, stiff_hint, rtol, atol, dt, maxiters, adaptive,
                          rows, cols)
        U = u0[None, :] * np.exp(-(saveat - t0))[:, None]
        return (saveat.copy(), U, 0, np.arange(1, 9), float(saveat[-1]), "Rodas5P")

    def bridge_solve_batch(self, h, U0, THETA, t0, t1, saveat, solver, linsolve, stiff_hint, rtol, atol, dt,
                           maxiters, adaptive, rows, cols):
        m = self._model(h)
        n = _arr(U0, 2, what="U0").shape[0]
        assert U0.shape == (n, m["n_states"])
        _arr(THETA, 2, shape=(n, m["n_theta"]), what="THETA")
        self.calls.append(("bridge_solve_batch", dict(THETA=THETA.copy(), U0=U0.copy())))
        self._check_solve(m, t0, t1, saveat, solver, linsolve, stiff_hint, rtol, atol, dt, maxiters, adaptive,
                          rows, cols)
        U = U0[:, None, :] * np.exp(-(saveat - t0))[None, :, None]
        status = np.arange(n) % 2
        stats = np.tile(np.arange(1, 9), (n, 1))
        return (U, status, stats, np.full(n, saveat[-1]))

    def bridge_sensitivity(self, h, u0, theta, wrt_u0, param_index, t0, t1, saveat, solver, linsolve,
                           stiff_hint, rtol, atol, dt, maxiters, adaptive, rows, cols):
        m = self._model(h)
        _arr(u0, 1, shape=(m["n_states"],), what="u0")
        _arr(theta, 1, shape=(m["n_theta"],), what="theta")
        assert isinstance(wrt_u0, bool)
        _arr(param_index, 1, dtype=np.int64, what="param_index")
        assert np.all((param_index >= 1) & (param_index <= m["n_theta"])), "param_index is 1-based"
        self._check_solve(m, t0, t1, saveat, solver, linsolve, stiff_hint, rtol, atol, dt, maxiters, adaptive,
                          rows, cols)
        self.calls.append(("bridge_sensitivity", dict(wrt_u0=wrt_u0, param_index=param_index.copy())))
        n, ns = m["n_states"], saveat.size
        nw = (n if wrt_u0 else 0) + param_index.size
        i, j, c = np.meshgrid(np.arange(ns), np.arange(n), np.arange(nw), indexing="ij")
        return (u0[None, :] * np.ones((ns, 1)), (i + j + c).astype(float), 0)

    # -- gradients and fits
    def _check_data(self, m, theta, U0, t0s, ts, ys, mask, scale, l2):
        _arr(theta, 1, shape=(m["n_theta"],), what="theta")
        n_traj, L = _arr(ts, 2, what="ts").shape
        _arr(U0, 2, shape=(n_traj, m["n_states"]), what="U0")
        _arr(t0s, 1, shape=(n_traj,), what="t0s")
        _arr(ys, 3, shape=(n_traj, L, m["n_states"]), what="ys")
        _arr(mask, 3, dtype=bool, shape=(n_traj, L, m["n_states"]), what="mask")
        _arr(scale, 1, shape=(m["n_states"],), what="scale")
        _float(l2, "l2")

    def bridge_loss_and_grad(self, h, theta, U0, t0s, ts, ys, mask, scale, l2, solver, linsolve, stiff_hint,
                             adjoint, vjp, rtol, atol, maxiters, rows, cols):
        m = self._model(h)
        self._check_data(m, theta, U0, t0s, ts, ys, mask, scale, l2)
        _str(adjoint, ADJOINTS, "adjoint"), _str(vjp, VJPS, "vjp")
        self.calls.append(("bridge_loss_and_grad", dict(adjoint=adjoint, vjp=vjp, solver=solver)))
        loss = 0.5 * (float(theta @ theta) + float(np.sum(U0**2)))
        return (loss, theta.copy(), U0.copy(), np.zeros(U0.shape[0], dtype=np.int64))

    def bridge_fit(self, h, theta0, z0, U0, u0_free, t0s, ts, ys, mask, scale, l2, kind, lo, hi, free, stages,
                   solver, linsolve, stiff_hint, adjoint, vjp, rtol, atol, maxiters, rows, cols, report,
                   report_every):
        m = self._model(h)
        self._check_data(m, theta0, U0, t0s, ts, ys, mask, scale, l2)
        assert np.all(np.isfinite(ys)), "ys must not contain NaN (masked entries are zero-filled)"
        nt = m["n_theta"]
        _arr(z0, 1, shape=(nt,), what="z0")
        _arr(u0_free, 2, dtype=bool, shape=U0.shape, what="u0_free")
        _arr(kind, 1, dtype=np.int64, shape=(nt,), what="kind")
        assert set(np.unique(kind)) <= {0, 1, 2, 3}
        _arr(lo, 1, shape=(nt,), what="lo"), _arr(hi, 1, shape=(nt,), what="hi")
        _arr(free, 1, dtype=bool, shape=(nt,), what="free")
        assert isinstance(stages, tuple) and stages
        for st in stages:
            assert isinstance(st, tuple) and len(st) == len(STAGE_FIELDS), st
            kind_, lr, steps, horizon, clip, sched, frac, patience, min_delta, memory, tol = st
            assert kind_ in ("adam", "lbfgs") and type(lr) is float and type(steps) is int
            assert 0 < horizon <= 1 and type(clip) is float and sched in (
                "constant", "cosine", "exponential", "warmup_cosine")
            assert type(patience) is int and type(memory) is int and memory > 0
            assert type(tol) is float and tol >= 0 and (kind_ == "adam" or tol > 0)
        _str(adjoint, ADJOINTS, "adjoint"), _str(vjp, VJPS, "vjp")
        assert report is None or callable(report)
        _float(report_every, "report_every")
        self.calls.append(("bridge_fit", dict(theta0=theta0.copy(), z0=z0.copy(), kind=kind.copy(), lo=lo.copy(),
                                              hi=hi.copy(), free=free.copy(), stages=stages,
                                              adjoint=adjoint, vjp=vjp)))
        hist, stage_of, rejected, stopped = [], [], [], False
        theta = np.where(free, 0.5 * theta0, theta0)
        for s, st in enumerate(stages, start=1):
            for _ in range(st[2]):
                k = len(hist) + 1
                hist.append(float("inf") if k in self.failing_steps else 1.0 / k)
                stage_of.append(s)
                if k in self.failing_steps:
                    rejected.append(k)
                if report is not None and report(len(hist), hist[-1], s, theta) is True:
                    stopped = True
                    break
            if stopped:
                break
        U = np.where(u0_free, U0 + 1.0, U0)
        finite = [h for h in hist if np.isfinite(h)]
        return (theta, U, np.array(hist), np.array(stage_of, dtype=np.int64), np.array(rejected, dtype=np.int64),
                8 if stopped else 0, "stopped" if stopped else "fitted", finite[-1] if finite else float("nan"))

    def bridge_info(self):
        return (("julia", "fake"), ("threads", "1"))
