"""A real observed series: yearly sunspot numbers as a nonlinear oscillator with a learned term.

Data: the yearly mean sunspot numbers 1700-2008 shipped with ``statsmodels``
(``statsmodels.datasets.sunspots``), loaded from that package at run time (install it
with ``pip install statsmodels``; nothing is copied into this repository).

Model.  The solar cycle is a roughly 11-year oscillation whose amplitude and shape vary
from cycle to cycle; its square root is close to a sinusoid (a common variance-stabilising
transform).  With ``z`` the standardised square root of the sunspot number and ``v`` its
rate of change (a latent state: never observed), we take a harmonic oscillator as the known
physics and let a small network learn what a harmonic oscillator lacks (damping,
amplitude saturation, the asymmetry of fast rise and slow decay)::

    z' = v
    v' = -omega^2 z + nn(z, v)          omega = 2 pi / P fitted (P starts at 11 years)

Fitting.  Years 1700-1979 are the training data, cut into 22-year windows (two cycles)
that are fitted as separate trajectories sharing ``omega`` and the network, each with its
own fitted initial state: a deterministic oscillator cannot keep the phase of an irregular
cycle for 280 years, but it can learn the cycle's dynamics from many short stretches.
The forecast for 1980-2008 (about 2.6 cycles) starts from the fitted state at the end of
the last window, and is compared with two simple baselines: the training mean
(climatology) and an autoregressive AR(9) model of the same transformed series (least
squares, forecast recursively), the classic linear model of this series.

    python examples/real_series.py [--quick] [--out DIR]

Writes ``sunspots.png`` and ``results.json`` into ``--out`` (default ``sunspots_output``).
``--quick`` (or ``PYSCIML_EXAMPLE_QUICK=1``) shortens the training for a smoke test.

Full size: about 76 s (measured on 2 shared cores, load 2-4); ``--quick``: a short run for
tests and the gallery.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

import pysciml as ps

TRAIN_END = 1979  # last training year
WINDOW = 22  # years per training window (two cycles)
AR_ORDER = 9


def load_sunspots():
    """``(years, sunspot numbers)`` from statsmodels, or exit with a message saying how to get it."""
    try:
        from statsmodels.datasets import sunspots
    except ImportError:
        sys.exit("This example reads the yearly sunspot numbers shipped with statsmodels, which is not "
                 "installed: pip install statsmodels")
    df = sunspots.load_pandas().data
    return df["YEAR"].to_numpy(dtype=float), df["SUNACTIVITY"].to_numpy(dtype=float)


def solar_cycle(u, p, t, m):
    """A harmonic oscillator in the standardised sqrt(sunspots) plus a learned term."""
    z, v = u
    return [v, -p.omega**2 * z + p.nn(u)[0]]


def damped_oscillator(u, p, t, m):
    """The physics alone (a baseline): a damped harmonic oscillator."""
    z, v = u
    return [v, -p.omega**2 * z - p.gamma * v]


def make_model():
    return ps.UDE(solar_cycle, states=["z", "v"], time_units="years",
                  params={"omega": ps.Param(2 * np.pi / 11.0, bounds=(0.0, None), units="1/year")},
                  networks={"nn": ps.MLP(2, 1, width=16, depth=2, activation="tanh")})


def make_baseline():
    return ps.ODEModel(damped_oscillator, states=["z", "v"], time_units="years",
                       params={"omega": ps.Param(2 * np.pi / 11.0, bounds=(0.0, None), units="1/year"),
                               "gamma": ps.Param(0.0, units="1/year")})


def windows(years, z):
    """Training windows of ``WINDOW`` years, counted back from ``TRAIN_END`` (``v`` unobserved: NaN)."""
    out = []
    end = TRAIN_END
    while end - WINDOW + 1 >= years[0]:
        sel = (years >= end - WINDOW + 1) & (years <= end)
        y = np.stack([z[sel], np.full(sel.sum(), np.nan)], axis=1)
        out.append((years[sel] - years[0], y))
        end -= WINDOW
    return out[::-1]  # oldest first; the last window ends at TRAIN_END


def ar_forecast(z_train, steps, order=AR_ORDER):
    """Least-squares AR(order) with intercept on ``z_train``, forecast ``steps`` ahead recursively."""
    X = np.stack([z_train[order - k - 1 : len(z_train) - k - 1] for k in range(order)], axis=1)
    X = np.concatenate([np.ones((X.shape[0], 1)), X], axis=1)
    coef, *_ = np.linalg.lstsq(X, z_train[order:], rcond=None)
    hist = list(z_train[-order:])
    out = []
    for _ in range(steps):
        nxt = coef[0] + sum(coef[1 + k] * hist[-1 - k] for k in range(order))
        out.append(nxt)
        hist.append(nxt)
    return np.array(out)


def training(quick: bool):
    if quick:
        return {"strategy": ps.GrowingHorizon(stages=2, steps=150),
                "optimizers": [ps.Adam(1e-2, steps=300, schedule="cosine"), ps.LBFGS(steps=100)]}
    return {"strategy": ps.GrowingHorizon(stages=3, steps=300),
            "optimizers": [ps.Adam(1e-2, steps=1000, schedule="cosine"), ps.LBFGS(steps=300)]}


def plot(path, years, S, t_fc, S_fc, S_ar, S_osc, clim, fitted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4))
    ax.plot(years, S, "k.-", lw=0.6, ms=2, label="observed (statsmodels sunspots)")
    for i, (ty, Sy) in enumerate(fitted):
        ax.plot(ty, Sy, "-", color="C0", lw=1.0, label="UDE fit (22-year windows)" if i == 0 else None)
    ax.plot(t_fc, S_fc, "-", color="C3", lw=1.8, label="UDE forecast")
    ax.plot(t_fc, S_ar, "--", color="C2", lw=1.2, label=f"AR({AR_ORDER}) forecast")
    ax.plot(t_fc, S_osc, ":", color="C1", lw=1.2, label="damped oscillator (no network) forecast")
    ax.axhline(clim, color="0.5", lw=0.8, ls=":", label="training mean")
    ax.axvline(TRAIN_END + 0.5, color="0.3", lw=0.8)
    ax.set(xlabel="year", ylabel="sunspot number", title="yearly sunspots: UDE oscillator vs baselines",
           xlim=(1850, years[-1] + 1))
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(quick: bool = False, out: str | os.PathLike = "sunspots_output", verbose: int = 1) -> dict:
    """Fit on 1700-1979, forecast 1980-2008; returns the errors of the UDE and the baselines."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    years, S = load_sunspots()
    root = np.sqrt(S)
    train = years <= TRAIN_END
    mu, sd = root[train].mean(), root[train].std()
    z = (root - mu) / sd
    to_S = lambda zz: np.maximum(zz * sd + mu, 0.0) ** 2  # noqa: E731  back to sunspot numbers

    data = windows(years, z)
    with warnings.catch_warnings():  # v is latent on purpose: no need to warn that it is never observed
        warnings.simplefilter("ignore", ps.data.DataWarning)
        model = make_model()
        model.fit(data, seed=0, verbose=verbose, **training(quick))
        baseline = make_baseline()
        baseline.fit(data, strategy=ps.SingleShooting(), optimizers=[ps.LBFGS(steps=200)], verbose=verbose)
    print(model.summary())
    period = 2 * np.pi / model.params_["omega"]
    print(f"fitted period of the linear part: {period:.2f} years; training R^2 (z) = {model.score():.3f} "
          f"(damped oscillator without the network: {baseline.score():.3f}, period "
          f"{2 * np.pi / baseline.params_['omega']:.2f} years)")

    # forecast from the fitted state at the end of the last training window
    horizon = float(years[-1] - TRAIN_END)
    test = years > TRAIN_END

    def forecast(m):
        fc = m.forecast(horizon, n=int(horizon) + 1, trajectory=len(data) - 1)
        t_fc = fc["time"].values + years[0]  # model time 0 is the first year of the series
        return np.interp(years[test], t_fc, to_S(fc["z"].values))

    S_fc, S_osc = forecast(model), forecast(baseline)
    S_ar = to_S(ar_forecast(z[train], int(test.sum())))
    clim = float(S[train].mean())
    rmse = lambda a: float(np.sqrt(np.mean((a - S[test]) ** 2)))  # noqa: E731
    first = years[test] <= TRAIN_END + 11  # the first cycle after the training data
    rmse1 = lambda a: float(np.sqrt(np.mean((a[first] - S[test][first]) ** 2)))  # noqa: E731
    errors = {
        "ude": {"rmse": rmse(S_fc), "rmse_first_cycle": rmse1(S_fc)},
        "damped_oscillator": {"rmse": rmse(S_osc), "rmse_first_cycle": rmse1(S_osc)},
        f"ar{AR_ORDER}": {"rmse": rmse(S_ar), "rmse_first_cycle": rmse1(S_ar)},
        "climatology": {"rmse": rmse(np.full(test.sum(), clim)), "rmse_first_cycle": rmse1(np.full(test.sum(), clim))},
    }
    print(f"\nforecast {TRAIN_END + 1}-{int(years[-1])} (sunspot number RMSE; first cycle "
          f"{TRAIN_END + 1}-{TRAIN_END + 11} in brackets):")
    for name, e in errors.items():
        print(f"  {name:18s} {e['rmse']:6.1f}  ({e['rmse_first_cycle']:.1f})")

    fitted = []
    for b, (tw, _) in enumerate(data):
        ds = model.predict(np.linspace(tw[0], tw[-1], 60), trajectory=b)
        fitted.append((ds["time"].values + years[0], to_S(ds["z"].values)))
    plot(out / "sunspots.png", years, S, years[test], S_fc, S_ar, S_osc, clim, fitted)
    results = {
        "quick": quick, "status": model.status_.name, "loss": float(model.loss_), "period_years": float(period),
        "train_r2_z": float(model.score()), "baseline_train_r2_z": float(baseline.score()),
        "baseline_params": baseline.params_, "n_windows": len(data), "forecast_years": [TRAIN_END + 1, int(years[-1])],
        "errors": errors, "fit_seconds": model.fit_seconds_, "compile_seconds": model.compile_seconds_,
        "figure": str(out / "sunspots.png"),
    }
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten to {out}/: sunspots.png, results.json")
    return results


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short training (smoke test)")
    ap.add_argument("--out", default="sunspots_output", help="output folder")
    args = ap.parse_args()
    main(quick=args.quick or os.environ.get("PYSCIML_EXAMPLE_QUICK") == "1", out=args.out)
