"""pysciml vs raw diffrax vs torchdiffeq on one universal differential equation, in one run.

    python benchmarks/ude.py [--quick] [--repeats 50] [--steps 200] [--out DIR]

The Lotka-Volterra missing-physics UDE of the SciML tutorial::

    prey'     =  1.3 prey     + nn(prey, predator)[0]
    predator' = -1.8 predator + nn(prey, predator)[1]

with ``nn`` an MLP 2-32-32-2 (tanh), fitted to 40 irregular samples on [0, 5] with 1%
noise.  Every contestant starts from the SAME weights (pysciml's flat layout from
``ps.MLP(...).init(seed)``: per layer ``W (out, in)`` row-major then ``b``, converted to
torch tensors and to a raw-diffrax pytree), sees the SAME data and minimises the SAME
loss: the mean over the observed entries of ``((u(t_i) - y_i) / scale)^2`` with
``scale`` the per-state standard deviation of the data.  All in float64, rtol 1e-6,
atol 1e-8, the initial state fixed at the first observation.

Measured (medians of ``--repeats`` calls after one compiling call, which is reported
apart):

* value and gradient of the loss: pysciml through its engine path (the jitted
  ``value_and_grad`` of the single-shooting loss that ``model.fit`` trains, built from
  ``pysciml.engines.jax.training.objectives.Objectives``; pysciml has no public
  per-gradient API) with ``ps.Tsit5()`` and each adjoint (``ps.Direct()``,
  ``ps.Checkpointed()``, ``ps.Backsolve()``) and with ``ps.Rodas5P()`` + ``ps.Direct()``;
  raw diffrax written as a user would (Tsit5, PIDController,
  RecursiveCheckpointAdjoint); torchdiffeq ``odeint`` and ``odeint_adjoint`` (dopri5);
* ``--steps`` Adam steps (learning rate 1e-3, no clipping) end to end: pysciml's training
  loop (its ``Trainer``: compiled chunks of 50 guarded steps, the loop ``model.fit``
  runs) and the whole public ``model.fit(...)`` call; a raw diffrax + optax loop (a
  jitted step in a Python loop); torch Adam loops;
* gradient agreement: the largest difference from the raw-diffrax gradient, relative
  to that gradient's largest entry, and the final losses after training.

Results: ``benchmarks/results/ude.json`` and ``ude.md`` (``--quick``: a smoke run with
few repeats and steps, written to ``--out`` only if given, else to a temporary folder).
Timings on a shared machine are noisy: compare the medians, never single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pysciml as ps  # noqa: E402
from timing import results_folder  # noqa: E402

U0_TRUE = (0.44249296, 4.6280594)
ALPHA, DELTA = 1.3, 1.8
RTOL, ATOL = 1e-6, 1e-8
LR = 1e-3
NET = ps.MLP(2, 2, width=32, depth=2, activation="tanh")


# -- the shared problem -------------------------------------------------------------------------
def lv_data(n=40, noise=0.01, t_end=5.0, seed=0):
    """``n`` irregular samples of the true Lotka-Volterra system on [0, t_end], multiplicative noise."""

    def rhs(t, u):
        x, y = u
        return [1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y]

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0.0, t_end, n))
    t[0] = 0.0
    y = solve_ivp(rhs, (0.0, t_end), U0_TRUE, t_eval=t, rtol=1e-11, atol=1e-12).y.T
    return t, y * (1.0 + noise * rng.standard_normal(y.shape))


def lv_physics(u, p, t, m):
    x, y = u
    f = p.nn(u)
    return [p.alpha * x + f[0], -p.delta * y + f[1]]


def _median_time(fn, repeats):
    """``(first_call_seconds, median_seconds, result_of_first_call)``."""
    t0 = time.perf_counter()
    first = fn()
    first_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first_s, statistics.median(times), first


# -- pysciml ------------------------------------------------------------------------------------------
def pysciml_model():
    return ps.UDE(lv_physics, states=["prey", "predator"], params={"alpha": ALPHA, "delta": DELTA},
                  networks={"nn": NET})


def pysciml_objective(t, y, solver, adjoint, seed):
    """The jitted value-and-gradient of pysciml's single-shooting loss, and its ``theta``."""
    import jax
    import jax.numpy as jnp

    from pysciml.data import as_observations
    from pysciml.engines import get_engine
    from pysciml.engines.jax.training.objectives import Objectives
    from pysciml.engines.jax.training.packing import Packing
    from pysciml.engines.jax.training.run import fit_solver
    from pysciml.fitting.problem import build_fit_request

    get_engine("jax")
    model = pysciml_model()
    obs = as_observations((t, y), states=model)
    problem = build_fit_request(model, obs, fixed=["alpha", "delta"], u0=y[0], strategy=ps.SingleShooting(),
                            optimizers=[ps.Adam(LR, steps=1, clip=None)], solver=solver, adjoint=adjoint,
                            rtol=RTOL, atol=ATOL, seed=seed)
    fsolver, lin, _ = fit_solver(problem)
    packing = Packing(problem)
    obj = Objectives(problem, packing, fsolver, linsolve=lin, adjoint=problem.adjoint)
    vg = jax.jit(jax.value_and_grad(lambda th: obj.single_shooting(th, 1.0)))
    return vg, packing.theta0(), obj, problem, jnp


def pysciml_gradient(t, y, solver, adjoint, seed, repeats):
    vg, theta, _, _, _ = pysciml_objective(t, y, solver, adjoint, seed)

    def call():
        loss, g = vg(theta)
        return float(loss), np.asarray(g["nets"]["nn"])

    first_s, med, (loss, grad) = _median_time(call, repeats)
    return {"compile_s": first_s, "seconds": med, "loss": loss}, grad


def pysciml_training(t, y, seed, steps):
    """pysciml's training loop (compiled once, then timed) and the whole public ``model.fit``."""
    import jax.numpy as jnp

    from pysciml.engines.jax.training.loops import Trainer
    from pysciml.engines.jax.training.run import single_shooting_loss

    vg, theta0, obj, problem, _ = pysciml_objective(t, y, ps.Tsit5(), ps.Checkpointed(), seed)
    opt = ps.Adam(LR, steps=steps, clip=None)
    trainer = Trainer()
    loss = single_shooting_loss(obj)
    t0 = time.perf_counter()
    trainer.run(opt, loss, theta0, jnp.float64(1.0))
    first_s = time.perf_counter() - t0
    n0 = len(trainer.history)
    t0 = time.perf_counter()
    trainer.run(opt, loss, theta0, jnp.float64(1.0))
    loop_s = time.perf_counter() - t0
    history = np.asarray(trainer.history[n0:])

    def fit():
        model = pysciml_model()
        t0 = time.perf_counter()
        model.fit((t, y), fixed=["alpha", "delta"], u0=y[0], strategy=ps.SingleShooting(),
                  optimizers=[ps.Adam(LR, steps=steps, clip=None)], solver=ps.Tsit5(), rtol=RTOL, atol=ATOL,
                  max_steps=MAX_STEPS, seed=seed, verbose=0)
        return time.perf_counter() - t0, model

    fit_s, model = fit()  # traces and compiles (or loads from the compiled-model cache)
    warm = [fit() for _ in range(3)]  # the same call again in this process: compiled functions reused
    warm_s = statistics.median(w for w, _ in warm)
    warm_model = warm[0][1]
    return {
        "loop": {"first_run_s": first_s, "seconds": loop_s, "loss_first": float(history[0]),
                 "loss_last": float(history[-1])},
        "fit": {"seconds": fit_s, "compile_s": float(model.compile_seconds_), "loss_after": float(model.loss_),
                "loss_last": float(model.loss_history_[-1])},
        "fit_warm": {"seconds": warm_s, "compile_s": fit_s - warm_s, "loss_first": float(warm_model.loss_history_[0]),
                     "loss_last": float(warm_model.loss_history_[-1])},
    }


# -- raw diffrax, as a user writes it ----------------------------------------------------------------
MAX_STEPS = 10_000  # raw diffrax's and model.fit's max_steps


def diffrax_problem(t, y, w_flat, checkpoints=None):
    """Raw diffrax loss; ``checkpoints=None``: diffrax's default recursive checkpointing (what
    ``ps.Checkpointed()`` and ``model.fit``'s default use), ``MAX_STEPS``: every step stored (what
    ``ps.Direct()`` uses)."""
    import diffrax
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in NET.unflatten(np.asarray(w_flat))]
    ts, ys = jnp.asarray(t), jnp.asarray(y)
    scale = jnp.asarray(y.std(0))
    u0 = jnp.asarray(y[0])

    def mlp(params, x):
        for w, b in params[:-1]:
            x = jnp.tanh(w @ x + b)
        w, b = params[-1]
        return w @ x + b

    def vector_field(t, u, params):
        f = mlp(params, u)
        return jnp.stack([ALPHA * u[0] + f[0], -DELTA * u[1] + f[1]])

    def loss_fn(params):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(vector_field), diffrax.Tsit5(), t0=ts[0], t1=ts[-1], dt0=None, y0=u0, args=params,
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=checkpoints), max_steps=MAX_STEPS,
        )
        return jnp.mean(((sol.ys - ys) / scale) ** 2)

    return params, loss_fn


def diffrax_flat(grads) -> np.ndarray:
    return np.concatenate([np.concatenate([np.asarray(w).ravel(), np.asarray(b)]) for w, b in grads])


def diffrax_gradient(t, y, w_flat, repeats, checkpoints=None):
    import jax

    params, loss_fn = diffrax_problem(t, y, w_flat, checkpoints)
    vg = jax.jit(jax.value_and_grad(loss_fn))

    def call():
        loss, g = vg(params)
        return float(loss), diffrax_flat(g)

    first_s, med, (loss, grad) = _median_time(call, repeats)
    return {"compile_s": first_s, "seconds": med, "loss": loss}, grad


def diffrax_training(t, y, w_flat, steps):
    import jax
    import optax

    params, loss_fn = diffrax_problem(t, y, w_flat)
    optim = optax.adam(LR)

    @jax.jit
    def step(params, opt_state):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optim.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def train(params):
        opt_state = optim.init(params)
        losses = []
        for _ in range(steps):
            params, opt_state, loss = step(params, opt_state)
            losses.append(loss)
        return [float(v) for v in losses]

    t0 = time.perf_counter()
    jax.block_until_ready(step(params, optim.init(params)))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    losses = train(params)
    seconds = time.perf_counter() - t0
    return {"compile_s": compile_s, "seconds": seconds, "loss_first": losses[0], "loss_last": losses[-1]}


# -- torchdiffeq ----------------------------------------------------------------------------------------
def torch_problem(t, y, w_flat):
    import torch
    from torch import nn

    torch.set_default_dtype(torch.float64)

    class UDE(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))

        def forward(self, t, u):
            f = self.net(u)
            return torch.stack([ALPHA * u[..., 0] + f[..., 0], -DELTA * u[..., 1] + f[..., 1]], dim=-1)

    func = UDE()
    with torch.no_grad():
        linears = [m for m in func.net if isinstance(m, nn.Linear)]
        for lin, (w, b) in zip(linears, NET.unflatten(np.asarray(w_flat))):
            lin.weight.copy_(torch.as_tensor(np.array(w)))
            lin.bias.copy_(torch.as_tensor(np.array(b)))
    data = {"t": torch.as_tensor(t), "y": torch.as_tensor(y), "scale": torch.as_tensor(y.std(0)),
            "u0": torch.as_tensor(y[0])}
    return func, data


def torch_loss(func, data, adjoint):
    import torch
    from torchdiffeq import odeint, odeint_adjoint

    solve = odeint_adjoint if adjoint else odeint
    pred = solve(func, data["u0"], data["t"], rtol=RTOL, atol=ATOL, method="dopri5")
    return torch.mean(((pred - data["y"]) / data["scale"]) ** 2)


def torch_flat(func) -> np.ndarray:
    from torch import nn

    parts = []
    for lin in (m for m in func.net if isinstance(m, nn.Linear)):
        parts += [lin.weight.grad.detach().numpy().ravel(), lin.bias.grad.detach().numpy()]
    return np.concatenate(parts)


def torch_gradient(t, y, w_flat, adjoint, repeats):
    func, data = torch_problem(t, y, w_flat)

    def call():
        func.zero_grad()
        loss = torch_loss(func, data, adjoint)
        loss.backward()
        return float(loss), torch_flat(func)

    first_s, med, (loss, grad) = _median_time(call, repeats)
    return {"first_call_s": first_s, "seconds": med, "loss": loss}, grad


def torch_training(t, y, w_flat, adjoint, steps):
    import torch

    func, data = torch_problem(t, y, w_flat)
    optim = torch.optim.Adam(func.parameters(), lr=LR)
    losses = []
    t0 = time.perf_counter()
    for _ in range(steps):
        optim.zero_grad()
        loss = torch_loss(func, data, adjoint)
        loss.backward()
        optim.step()
        losses.append(float(loss))
    return {"seconds": time.perf_counter() - t0, "loss_first": losses[0], "loss_last": losses[-1]}


# -- report ------------------------------------------------------------------------------------------------
#: what each contestant's backward pass keeps
MEMORY = {
    "raw diffrax": "recursive checkpoints",
    "raw diffrax, every step stored": "every step",
    "pysciml Tsit5 + Direct": "every step",
    "pysciml Tsit5 + Checkpointed": "recursive checkpoints",
    "pysciml Tsit5 + Backsolve": "none (adjoint ODE)",
    "pysciml Rodas5P + Direct": "every step",
    "torchdiffeq odeint": "every step (autograd graph)",
    "torchdiffeq odeint_adjoint": "none (adjoint ODE)",
}
#: the raw diffrax row with the same method and memory strategy
SAME_MEMORY = {
    "raw diffrax": "raw diffrax",
    "raw diffrax, every step stored": "raw diffrax, every step stored",
    "pysciml Tsit5 + Direct": "raw diffrax, every step stored",
    "pysciml Tsit5 + Checkpointed": "raw diffrax",
}


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def markdown(res) -> str:
    g, tr = res["gradient"], res["training"]
    ref = g["raw diffrax"]["seconds"]
    lines = [
        "# UDE benchmark: pysciml vs raw diffrax vs torchdiffeq",
        "",
        f"Lotka-Volterra UDE (MLP 2-32-32-2 tanh, {res['setup']['n_weights']} weights), 40 irregular samples "
        f"on [0, 5] with 1% noise, float64, rtol {RTOL:g}, atol {ATOL:g}; same initial weights, data and loss "
        f"everywhere. {res['setup']['machine']}, load average at start "
        f"{res['setup'].get('load_at_start', ['?'])[0]}. Generated by `python benchmarks/ude.py"
        f"{' --quick' if res['setup']['quick'] else ''}`.",
        "",
        "## Value and gradient of the loss (median of "
        f"{res['setup']['repeats']} calls; compile apart)",
        "",
        "Memory: what the backward pass keeps. Each pysciml row is compared with raw diffrax keeping the same "
        "(every step stored: `RecursiveCheckpointAdjoint(checkpoints=max_steps)`, which `ps.Direct()` is; "
        "recursive checkpoints: diffrax's default, which `ps.Checkpointed()` is).",
        "",
        "| contestant | memory | time (ms) | vs raw diffrax with the same memory | vs raw diffrax (default) | "
        "torchdiffeq odeint / this | compile (s) | gradient diff vs raw diffrax |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    tdq = g.get("torchdiffeq odeint", {}).get("seconds")
    for name, r in g.items():
        comp = r.get("compile_s")
        peer = g.get(SAME_MEMORY.get(name, ""), {}).get("seconds")
        same = f"{r['seconds'] / peer:.2f}x" if peer else "-"
        lines.append(
            f"| {name} | {MEMORY.get(name, '')} | {1e3 * r['seconds']:.3f} | {same} | "
            f"{r['seconds'] / ref:.2f}x | {(tdq / r['seconds']) if tdq else float('nan'):.1f}x | "
            f"{'-' if comp is None else f'{comp:.2f}'} | {r['grad_rel_diff']:.1e} |")
    steps = res["setup"]["steps"]
    lines += [
        "",
        f"## {steps} Adam steps (learning rate {LR:g}) end to end",
        "",
        "The headline is the public `model.fit(...)` called again in the same process (a new model, the same "
        "data, seed and settings: its compiled steps are reused), its compile reported apart (first call minus "
        "that); raw diffrax's loop and `model.fit` both keep diffrax's default recursive checkpoints, "
        f"max_steps {MAX_STEPS:,}.",
        "",
        "| contestant | time (s) | vs raw diffrax | torchdiffeq odeint / this | compile (s) | first loss | "
        "last loss |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ref = tr["raw diffrax + optax loop"]["seconds"]
    tdq = tr.get("torchdiffeq odeint + torch Adam", {}).get("seconds")
    for name, r in tr.items():
        comp = r.get("compile_s")
        lines.append(
            f"| {name} | {r['seconds']:.3f} | {r['seconds'] / ref:.2f}x | "
            f"{(tdq / r['seconds']) if tdq else float('nan'):.1f}x | "
            f"{'-' if comp is None else f'{comp:.2f}'} | {r.get('loss_first', float('nan')):.6g} | "
            f"{r['loss_last']:.6g} |")
    lines += ["", "## Notes", ""] + [f"* {n}" for n in res["notes"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: few repeats and steps (< 1 minute)")
    ap.add_argument("--repeats", type=int, default=None, help="timed calls per gradient (default 50)")
    ap.add_argument("--steps", type=int, default=None, help="Adam steps per training run (default 200)")
    ap.add_argument("--out", default=None, help="output folder (default benchmarks/results)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    args = ap.parse_args(argv)
    quick = args.quick
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    repeats = args.repeats or (3 if quick else 50)
    steps = args.steps or (10 if quick else 200)
    out = results_folder(args.out, quick)
    try:
        import torch  # noqa: F401
        import torchdiffeq  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
        print("torch / torchdiffeq not installed: the torchdiffeq contestants are skipped "
              "(pip install torch torchdiffeq)")

    from pysciml.engines import get_engine

    get_engine("jax")  # pysciml's process settings (x64, XLA flags) apply to every jax contestant
    t, y = lv_data()
    w0 = NET.init(args.seed)
    grads, gres = {}, {}
    print("value and gradient of the loss ...", flush=True)
    gres["raw diffrax"], grads["raw diffrax"] = diffrax_gradient(t, y, w0, repeats)
    gres["raw diffrax, every step stored"], grads["raw diffrax, every step stored"] = diffrax_gradient(
        t, y, w0, repeats, checkpoints=MAX_STEPS)
    cases = [("pysciml Tsit5 + Direct", ps.Tsit5(), ps.Direct()),
             ("pysciml Tsit5 + Checkpointed", ps.Tsit5(), ps.Checkpointed()),
             ("pysciml Tsit5 + Backsolve", ps.Tsit5(), ps.Backsolve()),
             ("pysciml Rodas5P + Direct", ps.Rodas5P(), ps.Direct())]
    for name, solver, adjoint in cases:
        gres[name], grads[name] = pysciml_gradient(t, y, solver, adjoint, args.seed, repeats)
        print(f"  {name}: {1e3 * gres[name]['seconds']:.3f} ms", flush=True)
    if have_torch:
        import torch

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        gres["torchdiffeq odeint"], grads["torchdiffeq odeint"] = torch_gradient(
            t, y, w0, False, max(3, repeats // 5))
        gres["torchdiffeq odeint_adjoint"], grads["torchdiffeq odeint_adjoint"] = torch_gradient(
            t, y, w0, True, max(2, repeats // 25))
    for name in gres:
        gres[name]["grad_rel_diff"] = _rel(grads[name], grads["raw diffrax"])
        gres[name]["loss_rel_diff"] = abs(gres[name]["loss"] / gres["raw diffrax"]["loss"] - 1)
        print(f"  {name}: {1e3 * gres[name]['seconds']:.3f} ms, gradient vs raw diffrax "
              f"{gres[name]['grad_rel_diff']:.1e}", flush=True)

    print(f"{steps} Adam steps ...", flush=True)
    tres = {"raw diffrax + optax loop": diffrax_training(t, y, w0, steps)}
    ptr = pysciml_training(t, y, args.seed, steps)
    tres["pysciml model.fit (public call, warm; compile apart)"] = ptr["fit_warm"]
    tres["pysciml model.fit (first call, compile included)"] = {"compile_s": ptr["fit"]["compile_s"], **ptr["fit"]}
    tres["pysciml training loop alone (Trainer, internal)"] = {
        "compile_s": ptr["loop"]["first_run_s"] - ptr["loop"]["seconds"], **ptr["loop"]}
    if have_torch:
        tres["torchdiffeq odeint + torch Adam"] = torch_training(t, y, w0, False, steps)
        tres["torchdiffeq odeint_adjoint + torch Adam"] = torch_training(t, y, w0, True, steps)
    for name, r in tres.items():
        print(f"  {name}: {r['seconds']:.3f} s, last loss {r['loss_last']:.6g}", flush=True)

    import jax

    res = {
        "setup": {
            "quick": quick, "repeats": repeats, "steps": steps, "seed": args.seed, "rtol": RTOL, "atol": ATOL,
            "learning_rate": LR, "n_weights": int(NET.n_params), "n_samples": int(t.size),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}",
            "load_at_start": load_at_start,
            "versions": _versions(),
        },
        "gradient": gres,
        "training": tres,
        "notes": [
            "pysciml per-gradient figures are the jitted value_and_grad of the single-shooting loss built by "
            "pysciml.engines.jax.training.objectives.Objectives (the function model.fit trains; there is no public "
            "per-gradient API).",
            "model.fit rows: 'warm' is the median of three more calls with a new model each (the first call's "
            "compiled steps reused), its compile column the first call minus that; 'first call' is the first "
            "call, compile included, its compile column what model.fit reports as compile_seconds_ (the first "
            "chunk of 50 steps); 'training loop alone' is the internal Trainer model.fit runs, run once to "
            "compile and timed on a second run (no data checks, no result building).",
            "raw diffrax: Tsit5, PIDController, RecursiveCheckpointAdjoint (default checkpoints, or "
            "checkpoints=max_steps for 'every step stored'), dt0=None, max_steps=10000, throw=True (the "
            "default); the training loop is a jitted step (value_and_grad + optax.adam) called from a Python "
            "loop.",
            "torchdiffeq: dopri5 in float64, torch Adam; torch has no compile step (first-call time reported).",
            "gradient diff: max |g - g_raw_diffrax| / max |g_raw_diffrax| over the 1,250 weight gradients.",
            f"jax {jax.__version__} devices {[d.platform for d in jax.devices()]}",
        ],
    }
    (out / "ude.json").write_text(json.dumps(res, indent=2) + "\n")
    (out / "ude.md").write_text(markdown(res))
    print(markdown(res))
    print(f"written: {out / 'ude.json'}, {out / 'ude.md'}")


def _versions():
    import importlib.metadata as md

    out = {}
    for pkg in ("jax", "diffrax", "equinox", "optax", "torch", "torchdiffeq", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


if __name__ == "__main__":
    main()
