"""Missing physics in Lotka-Volterra: fit a UDE, read the learned term back as an equation,
refit it as pure physics and forecast beyond the data.

The SciML missing-physics tutorial (Rackauckas et al. 2020), from Python.  The true system
is ``prey' = 1.3 prey - 0.9 prey*predator``, ``predator' = 0.8 prey*predator - 1.8 predator``;
we know only the linear growth and decay and let a small network learn the rest::

    prey'     =  1.3 prey     + nn(prey, predator)[0]
    predator' = -1.8 predator + nn(prey, predator)[1]

from 40 irregular, noisy (1%) observations on t in [0, 5].  Then:

1. ``model.discover("nn")`` runs sparse regression of the network's outputs along the
   fitted trajectory on polynomials of degree 2 and finds one ``prey*predator`` term per
   output (coefficients near -0.9 and 0.8);
2. ``eqs.to_model()`` turns the discovered equations into a pure-physics model whose
   coefficients are parameters, refitted (with the initial state) by L-BFGS;
3. both are forecast on [5, 10], against a pure neural ODE fitted to the same data.

Writes ``lv_discovery.png`` (fit, forecasts, learned vs true missing terms), the fitted
models (``lv_ude.json/.npz``, ``lv_refit.json/.npz``, reloadable with ``ps.load``) and
``results.json`` into ``--out`` (default ``lv_discovery_output``).

    python examples/lotka_volterra_discovery.py [--quick] [--out DIR]

``--quick`` (or ``PYSCIML_EXAMPLE_QUICK=1``) shortens the training for a smoke test.

Full size: about 74 s (measured on 2 shared cores, load 2-4); ``--quick``: a short run for
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

U0 = (0.44249296, 4.6280594)
TRUE = {"alpha": 1.3, "beta": 0.9, "gamma": 0.8, "delta": 1.8}


def true_rhs(t, u):
    x, y = u
    return [TRUE["alpha"] * x - TRUE["beta"] * x * y, TRUE["gamma"] * x * y - TRUE["delta"] * y]


def truth(ts):
    """The true trajectory at times ``ts`` (from ``U0`` at t = 0)."""
    ts = np.asarray(ts, dtype=float)
    return solve_ivp(true_rhs, (0.0, float(ts.max())), U0, t_eval=ts, rtol=1e-11, atol=1e-12).y.T


def observations(n=40, noise=0.01, t_end=5.0, seed=0):
    """``n`` irregular samples on [0, t_end] with multiplicative noise of relative size ``noise``."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, t_end, n))
    t[0] = 0.0
    y = truth(t)
    return t, y * (1.0 + noise * rng.standard_normal(y.shape))


def lotka_volterra_ude(u, p, t, m):
    """Known growth/decay plus a network for the unknown interaction."""
    prey, predator = u
    f = p.nn(u)
    return [p.alpha * prey + f[0], -p.delta * predator + f[1]]


def training(quick: bool) -> dict:
    """Fit options of the UDE.

    Default: pysciml's robust schedule (a growing-horizon warm-up, Adam, then L-BFGS).
    Quick: a collocation warm start (fit the right-hand side to smoothed derivatives of
    the data, no ODE solves) followed by L-BFGS on the trajectory, which reaches the
    noise floor on these data in a fraction of the time (it is less robust in general:
    on other noise draws it can stall, where the default schedule does not).
    """
    if not quick:
        return {}
    return {"strategy": ps.Collocation(steps=1000), "optimizers": [ps.LBFGS(steps=300)]}


def forecast_mse(model, t_last, horizon=5.0, n=101):
    """Forecast ``horizon`` past the last observation; MSE against the truth and the curves."""
    fc = model.forecast(horizon, n=n)
    ts = fc["time"].values
    pred = np.stack([fc["prey"].values, fc["predator"].values], axis=1)
    exact = truth(np.concatenate([[0.0], ts]))[1:]
    return float(np.mean((pred - exact) ** 2)), ts, pred


def plot(path, t, y, model, forecasts, samples):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    tt = np.linspace(0.0, 10.0, 400)
    exact = truth(tt)
    ax = axes[0]
    for j, (name, c) in enumerate((("prey", "C0"), ("predator", "C3"))):
        ax.plot(tt, exact[:, j], color=c, lw=0.8, alpha=0.5, label=f"true {name}")
        ax.plot(t, y[:, j], "o", color=c, ms=3, label=f"observed {name}")
        fitted = model.predict(np.linspace(0, t[-1], 200))
        ax.plot(fitted["time"], fitted[name], "--", color=c, lw=1.2, label=f"UDE fit {name}")
    ax.set(title="UDE fit to 40 noisy samples", xlabel="t", xlim=(0, 5.2))
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(tt, exact[:, 0], color="k", lw=1, label="truth (prey)")
    labels = {"refit": ("refit physics", "-"), "ude": ("UDE", "--"), "node": ("neural ODE", ":")}
    for name, (ts, pred) in forecasts.items():
        ax.plot(ts, pred[:, 0], labels[name][1], lw=1.5, label=f"{labels[name][0]} forecast")
    ax.axvspan(0, t[-1], color="0.9", zorder=-1)
    ax.set(title="forecast beyond the data (prey)", xlabel="t", ylim=(-0.5, 10))
    ax.legend(fontsize=7)
    ax = axes[2]
    X, Y = samples
    true_missing = np.stack([-TRUE["beta"] * X[:, 0] * X[:, 1], TRUE["gamma"] * X[:, 0] * X[:, 1]], axis=1)
    for j, c in ((0, "C0"), (1, "C3")):
        ax.plot(true_missing[:, j], Y[:, j], ".", color=c, ms=3, label=f"nn[{j}]")
    lo, hi = true_missing.min(), true_missing.max()
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.7)
    ax.set(title="learned vs true missing terms", xlabel="true term along the fit", ylabel="network output")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(quick: bool = False, out: str | os.PathLike = "lv_discovery_output", verbose: int = 1) -> dict:
    """Run the workflow; returns the measured outcomes (also written to ``out/results.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t, y = observations()

    # 1. the universal differential equation: known linear terms, unknown interaction
    model = ps.UDE(lotka_volterra_ude, states=["prey", "predator"], params={"alpha": 1.3, "delta": 1.8},
                   networks={"nn": ps.MLP(2, 2, width=32, depth=2, activation="tanh")})
    model.fit((t, y), fixed=["alpha", "delta"], seed=0, verbose=verbose, **training(quick))
    print(model.summary())
    noise_floor = float(np.mean(((y - truth(t)) / y.std(0)) ** 2))  # the loss of the true model
    print(f"final loss {model.loss_:.3g} (the true model's loss on these data: {noise_floor:.3g})")

    # 2. what did the network learn?  Sparse regression on a polynomial library.
    eqs = model.discover("nn", library=ps.Polynomial(degree=2), threshold=0.05)
    print("\ndiscovered:\n" + str(eqs))

    # 3. refit the discovered equations as pure physics (coefficients and initial state)
    refit = eqs.to_model()
    refit.fit((t, y), strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=200)], verbose=verbose)
    print("\n" + refit.summary())

    # 4. forecast on [5, 10] against a pure neural ODE fitted to the same data (default fit;
    #    skipped in quick mode)
    models = {"refit": refit, "ude": model}
    if not quick:
        node = ps.NeuralODE(["prey", "predator"])
        node.fit((t, y), seed=0, verbose=verbose)
        models["node"] = node
    forecasts, mse = {}, {}
    for name, m in models.items():
        mse[name], ts, pred = forecast_mse(m, t[-1])
        forecasts[name] = (ts, pred)
    print(f"\nforecast MSE on [{t[-1]:.2f}, {t[-1] + 5:.2f}] against the truth: "
          + ", ".join(f"{k} {v:.3g}" for k, v in mse.items()))
    if "node" in mse:
        print(f"the refit physics forecasts {mse['node'] / mse['refit']:.0f}x better than the neural ODE")

    # 5. figure and saved models
    plot(out / "lv_discovery.png", t, y, model, forecasts, model.network_samples("nn"))
    model.save(out / "lv_ude")
    refit.save(out / "lv_refit")
    reloaded = ps.load(out / "lv_ude", physics=lotka_volterra_ude)
    same = bool(np.allclose(reloaded.network_params_["nn"], model.network_params_["nn"], rtol=0, atol=0))

    results = {
        "quick": quick,
        "ude": {"status": model.status_.name, "loss": float(model.loss_), "noise_floor": noise_floor,
                "fit_seconds": model.fit_seconds_, "compile_seconds": model.compile_seconds_},
        "discovered": {"terms": [[f.name for f, _ in eqs.terms(i)] for i in range(eqs.n_outputs)],
                       "coefficients": eqs.coefficients, "text": str(eqs)},
        "refit": {"status": refit.status_.name, "params": refit.params_, "std": refit.param_std_},
        "forecast_mse": mse,
        "files": {"figure": str(out / "lv_discovery.png"), "ude": str(out / "lv_ude"),
                  "refit": str(out / "lv_refit")},
        "reload_identical": same,
    }
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\nwritten to {out}/: lv_discovery.png, lv_ude.json/.npz, lv_refit.json/.npz, results.json")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short training (smoke test)")
    ap.add_argument("--out", default="lv_discovery_output", help="output folder")
    args = ap.parse_args()
    main(quick=args.quick or os.environ.get("PYSCIML_EXAMPLE_QUICK") == "1", out=args.out)
