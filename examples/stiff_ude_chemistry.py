"""A stiff universal differential equation: a reaction network with an unknown rate law,
fitted with the Rosenbrock solver ``ps.Rodas5P()``.

Three species in a well-mixed reactor (concentrations in mol/L, time in minutes)::

    A --k1--> B            first order, k1 = 0.7 /min          (k1 fitted too)
    B <==kf/kb==> C        fast exchange, kf = 1000, kb = 400 /min  (known)
    C --r(C)--> removed    unknown rate law                     (learned)

The fast exchange makes the system stiff (eigenvalue about -1400 /min against rates
of order 1 /min: an explicit method needs thousands of steps, Rodas5P about a hundred).
The removal of C is, in truth, saturating (Michaelis-Menten) ``r(C) = Vmax C / (Km + C)``
with ``Vmax = 1 mol/L/min`` and ``Km = 0.5 mol/L``, but the model does not know that: it
writes the rate as ``C * g(C)`` with ``g`` a small network whose softplus output keeps
the rate non-negative and zero without C::

    A' = -k1 A
    B' =  k1 A - kf B + kb C
    C' =  kf B - kb C - C * g(C)

From 40 irregular samples of A, B and C over 10 minutes with 1% noise, the fit learns
``g`` and ``k1``; the example then compares the learned rate law with the true one along
the fitted trajectory (relative RMS error, stated in the output) and reads it back as an
equation by sparse regression of ``1 / g(C)`` on ``{1, C}`` (Michaelis-Menten is
``1/g = Km/Vmax + C/Vmax``), giving ``Vmax`` and ``Km``.

    python examples/stiff_ude_chemistry.py [--quick] [--out DIR]

Writes ``stiff_chemistry.png`` and ``results.json`` into ``--out`` (default
``stiff_chemistry_output``).  ``--quick`` (or ``PYSCIML_EXAMPLE_QUICK=1``) shortens the
training for a smoke test.

Full size: about 26 s (measured on 2 shared cores, load 2-4); ``--quick``: a short run for
tests and the gallery.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

import pysciml as ps

K1, KF, KB = 0.7, 1000.0, 400.0  # /min
VMAX, KM = 1.0, 0.5  # mol/L/min, mol/L
U0 = (3.0, 0.0, 0.0)  # mol/L
T_END = 10.0  # min


def true_rate(C):
    """The removal rate law the model does not know (Michaelis-Menten)."""
    return VMAX * C / (KM + C)


def true_rhs(t, u):
    A, B, C = u
    return [-K1 * A, K1 * A - KF * B + KB * C, KF * B - KB * C - true_rate(C)]


def observations(n=40, noise=0.01, seed=1):
    """``n`` irregular samples in (0, T_END] (plus t = 0) with 1% multiplicative noise."""
    rng = np.random.default_rng(seed)
    t = np.concatenate([[0.0], np.sort(rng.uniform(0.0, T_END, n - 1))])
    y = solve_ivp(true_rhs, (0.0, T_END), U0, method="Radau", t_eval=t, rtol=1e-10, atol=1e-12).y.T
    return t, y * (1.0 + noise * rng.standard_normal(y.shape))


def reactor(u, p, t, m):
    """Known mass-action kinetics plus a learned removal rate ``C * g(C)``."""
    A, B, C = u
    removal = C * p.g(m.stack([C]))[0]
    return [-p.k1 * A, p.k1 * A - p.kf * B + p.kb * C, p.kf * B - p.kb * C - removal]


def make_model():
    return ps.UDE(
        reactor, states={"A": {"units": "mol/L"}, "B": {"units": "mol/L"}, "C": {"units": "mol/L"}},
        params={"k1": ps.Param(0.4, bounds=(0.0, None), units="1/min"),
                "kf": ps.Param(KF, fixed=True, units="1/min"), "kb": ps.Param(KB, fixed=True, units="1/min")},
        networks={"g": ps.MLP(1, 1, width=16, depth=2, activation="tanh", final_activation="softplus",
                              inputs=("C",))},
        time_units="min",
    )


def training(quick: bool):
    if quick:
        return {"strategy": ps.SingleShooting(),
                "optimizers": [ps.Adam(2e-2, steps=250, schedule="cosine"), ps.LBFGS(steps=150)]}
    return {"strategy": ps.SingleShooting(),
            "optimizers": [ps.Adam(2e-2, steps=800, schedule="cosine"), ps.LBFGS(steps=400)]}


def learned_rate(model, C):
    """The fitted network's rate law ``C * g(C)`` at concentrations ``C`` (numpy)."""
    C = np.asarray(C, dtype=float).reshape(-1, 1)
    g = model.networks["g"].apply_numpy(model.network_params_["g"], C)[:, 0]
    return C[:, 0] * g


def michaelis_menten_from(model, C):
    """``(Vmax, Km)`` read back from the learned ``g``: least squares of ``1/g`` on ``{1, C}``."""
    C = np.asarray(C, dtype=float)
    g = model.networks["g"].apply_numpy(model.network_params_["g"], C.reshape(-1, 1))[:, 0]
    X = np.stack([np.ones_like(C), C], axis=1)
    (a, b), *_ = np.linalg.lstsq(X, 1.0 / g, rcond=None)
    return float(1.0 / b), float(a / b)


def stiffness_demo(model):
    """Steps taken by an explicit (Tsit5) and a Rosenbrock (Rodas5P) method on the fitted model."""
    out = {}
    for solver in (ps.Tsit5(), ps.Rodas5P()):
        sol = ps.solve(model, model.u0_, (0.0, T_END), params=model._all_params(), solver=solver,
                       rtol=1e-6, atol=1e-8)
        out[solver.name] = {"status": sol.status.name, "steps": int(sol.stats.get("steps", -1))}
    return out


def plot(path, t, y, model, C_grid):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    fit = model.predict(np.linspace(0.0, T_END, 300))
    for j, (name, c) in enumerate((("A", "C0"), ("B", "C1"), ("C", "C3"))):
        ax.plot(t, y[:, j], "o", color=c, ms=3, label=f"observed {name}")
        ax.plot(fit["time"], fit[name], "-", color=c, lw=1.2, label=f"UDE {name}")
    ax.set(title="stiff reactor: data and fitted UDE (Rodas5P)", xlabel="time (min)", ylabel="mol/L")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(C_grid, true_rate(C_grid), "k-", label="true  Vmax C / (Km + C)")
    ax.plot(C_grid, learned_rate(model, C_grid), "--", color="C3", label="learned  C g(C)")
    ax.plot(C_grid, VMAX * C_grid / KM, ":", color="0.5", label="linear law (for contrast)")
    ax.set(title="the unknown rate law", xlabel="C (mol/L)", ylabel="removal rate (mol/L/min)",
           ylim=(0, 1.3 * true_rate(C_grid).max()))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(quick: bool = False, out: str | os.PathLike = "stiff_chemistry_output", verbose: int = 1) -> dict:
    """Fit, compare the learned rate law with the truth; returns the outcomes."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t, y = observations()
    model = make_model()
    model.fit((t, y), u0=list(U0), solver=ps.Rodas5P(), seed=0, verbose=verbose, **training(quick))
    print(model.summary())

    # the learned rate law along the fitted trajectory (the concentrations the data visited)
    traj = model.predict(np.linspace(0.0, T_END, 200))
    C_path = traj["C"].values
    r_true, r_fit = true_rate(C_path), learned_rate(model, C_path)
    rel_rms = float(np.sqrt(np.mean((r_fit - r_true) ** 2)) / np.sqrt(np.mean(r_true**2)))
    rel_max = float(np.max(np.abs(r_fit - r_true)) / np.max(r_true))
    vmax, km = michaelis_menten_from(model, C_path[C_path > 0.05 * C_path.max()])
    print(f"\nlearned vs true removal rate along the trajectory (C in [0, {C_path.max():.2f}] mol/L): "
          f"relative RMS error {rel_rms:.2%}, largest error {rel_max:.2%} of the peak rate")
    print(f"read back as Michaelis-Menten: Vmax = {vmax:.3f} (true {VMAX}), Km = {km:.3f} (true {KM})")
    print(f"k1 = {model.params_['k1']:.4f} +/- {model.param_std_['k1']:.4f} /min (true {K1})")
    steps = {} if quick else stiffness_demo(model)
    for name, s in steps.items():
        print(f"  {name}: {s['steps']} steps ({s['status']})")

    C_grid = np.linspace(0.0, 1.05 * C_path.max(), 200)
    plot(out / "stiff_chemistry.png", t, y, model, C_grid)
    results = {
        "quick": quick, "status": model.status_.name, "loss": float(model.loss_),
        "k1": float(model.params_["k1"]), "k1_std": float(model.param_std_["k1"]),
        "rate_rel_rms_error": rel_rms, "rate_rel_max_error": rel_max, "C_max": float(C_path.max()),
        "michaelis_menten": {"Vmax": vmax, "Km": km}, "solver_steps": steps,
        "fit_seconds": model.fit_seconds_, "compile_seconds": model.compile_seconds_,
        "solver": type(model.fitted_solver_).__name__, "figure": str(out / "stiff_chemistry.png"),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten to {out}/: stiff_chemistry.png, results.json")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short training (smoke test)")
    ap.add_argument("--out", default="stiff_chemistry_output", help="output folder")
    args = ap.parse_args()
    main(quick=args.quick or os.environ.get("PYSCIML_EXAMPLE_QUICK") == "1", out=args.out)
