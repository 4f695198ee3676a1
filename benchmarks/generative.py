"""pysciml's LatentSDE vs a torchsde latent SDE of the same sizes on the same data, in one run.

    python benchmarks/generative.py [--quick] [--repeats 20] [--out DIR]

Data: the noise-driven damped oscillators of ``tests/helpers/stochastic_oscillators.py``
(128 series, x observed at 41 times on [0, 10] with noise).  Both models have the same parts and
sizes: a GRU encoder (hidden 16) read backwards over the observations, giving q(z0) (K = 4) and a
context (8) per time; a posterior drift MLP (K + 8 -> 16 -> 16 -> K) reading the context of
the next observation; a prior drift MLP (K -> 16 -> 16 -> K); one
learned diffusion constant per latent dimension; a decoder (K -> 16 -> 1); a learned Gaussian
prior of z0 and observation noise.  Both solve Ito Euler-Maruyama with fixed step 0.125 (80 steps
over the series), accumulate the path KL 0.5 |(f_post - f_prior) / g|^2 along the solve
(torchsde: ``logqp=True``) and take an Adam step on the negative ELBO of a batch of 32 series,
float64, one core (pinned), one torch thread.

Measured (best of ``--repeats`` calls after a warm-up call; the first call's time, which
includes jax's compilation, is reported apart):

* one training step (loss, gradient, Adam update): pysciml's jitted step, the one
  ``LatentSDE.fit`` runs each step; torch: forward, ``backward()``, ``optimizer.step()``;
* one batch of 256 prior sample paths at the 41 times: ``LatentSDE.sample`` (public call);
  torchsde ``sdeint`` under ``no_grad``.

Results: ``benchmarks/results/generative.json`` and ``generative.md`` (``--quick``: a smoke
run written to ``--out`` only if given).  The results say "unpublished" when the machine's
load average exceeded its core count during the run: timings then are indicative only.
torch and torchsde are in the ``bench`` extra; without them only pysciml's rows are measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# the data generator shared with the tests (one definition of the oscillator family)
sys.path.insert(0, str(HERE.parent / "tests" / "helpers"))
import stochastic_oscillators as so  # noqa: E402
from timing import best_of, cold_compile_cache, first_call  # noqa: E402

K, H, C, D = 4, 16, 8, 1
BATCH, N_TRAIN, N_SAMPLE, DT = 32, 128, 256, 0.125  # a binary fraction: torchsde 0.2.6 hangs at t1 = 10 with dt = 0.1


def pysciml_rows(y, repeats):
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import pysciml as ps
    from pysciml.engines.jax.latent import train as tr
    from pysciml.engines.jax.latent.sde import build_sde_nets
    from pysciml.latent.data import padded_arrays, read_series

    model = ps.LatentSDE(K, encoder_hidden=H, drift_hidden=H, diffusion_hidden=0, context_size=C,
                         decoder_hidden=H, encoder="gru", dt=DT, seed=0)  # fmt: skip
    obs = read_series(so.series(y))
    scaling = model._scaling(obs)
    cfg = model._make_config(scaling, D)
    T, Y, M = padded_arrays(obs, scaling)
    cfg = tr._for_data(cfg, T, M)
    nets = build_sde_nets(cfg, D, jax.random.PRNGKey(0))
    params, static = eqx.partition(nets, eqx.is_inexact_array)
    opt_conf = (1e-2, 1000, 1.0)
    opt_state = tr._optimizer(opt_conf).init(params)
    Tj, Yj, Mj = jnp.asarray(T), jnp.asarray(Y), jnp.asarray(M)
    idx = jnp.arange(BATCH)

    def step():
        out = tr._step(params, static, opt_state, Tj, Yj, Mj, idx, jax.random.PRNGKey(1), jnp.asarray(1.0), cfg, 1,
                       opt_conf)  # fmt: skip
        jax.block_until_ready(out)

    rows = {"train_step_first": first_call(step)[:2], "train_step": best_of(step, repeats)[:2]}
    model.fit(so.series(y), steps=2, batch_size=BATCH)
    t = so.times()
    rows["sample_first"] = first_call(lambda: model.sample(t, N_SAMPLE, seed=0))[:2]
    rows["sample"] = best_of(lambda: model.sample(t, N_SAMPLE, seed=1), repeats)[:2]
    rows["n_sde_steps"] = int(round(cfg.span / cfg.dt))
    return rows, {"jax": jax.__version__, "pysciml": ps.__version__}


def torch_rows(y, repeats):
    try:
        import torch
        import torchsde
    except ImportError:
        return None, {}
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    nn = torch.nn

    def mlp(n_in, n_out):
        return nn.Sequential(nn.Linear(n_in, H), nn.Tanh(), nn.Linear(H, H), nn.Tanh(), nn.Linear(H, n_out))

    class Posterior(nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def __init__(self):
            super().__init__()
            self.post, self.prior = mlp(K + C, K), mlp(K, K)
            self.log_g = nn.Parameter(torch.full((K,), float(np.log(0.3))))
            self.ctx_t = self.ctx = None

        def f(self, t, z):  # posterior drift: the context of the next observation
            row = torch.clamp(torch.searchsorted(self.ctx_t, t.reshape(1)), max=self.ctx_t.numel() - 1)[0]
            return self.post(torch.cat([z, self.ctx[:, row]], dim=1))

        def h(self, t, z):  # prior drift
            return self.prior(z)

        def g(self, t, z):
            return torch.exp(self.log_g).expand_as(z)

    class PriorOnly(nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def __init__(self, owner):
            super().__init__()
            self.owner = owner

        def f(self, t, z):
            return self.owner.prior(z)

        def g(self, t, z):
            return self.owner.g(t, z)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(2 * D + 1, H, batch_first=True)
            self.head, self.context = nn.Linear(H, 2 * K), nn.Linear(H, C)
            self.sde = Posterior()
            self.decoder = nn.Sequential(nn.Linear(K, H), nn.Tanh(), nn.Linear(H, D))
            self.z0_mean, self.z0_log_std = nn.Parameter(torch.zeros(K)), nn.Parameter(torch.zeros(K))
            self.log_sigma = nn.Parameter(torch.full((D,), float(np.log(0.1))))

        def loss(self, t, yb):
            dt = torch.cat([torch.zeros(1), torch.diff(t)]).abs()
            x = torch.cat([yb, torch.ones_like(yb), dt.expand(yb.shape[0], -1)[..., None]], dim=-1)
            hs, _ = self.gru(torch.flip(x, dims=[1]))
            hs = torch.flip(hs, dims=[1])  # row i: the series from t_i on, read backwards
            out = self.head(hs[:, 0])
            mean, std = out[:, :K], nn.functional.softplus(out[:, K:]) + 1e-6
            self.sde.ctx_t, self.sde.ctx = t, self.context(hs)
            z0 = mean + std * torch.randn_like(std)
            zs, logqp = torchsde.sdeint(self.sde, z0, t, method="euler", dt=DT, logqp=True,
                                        names={"drift": "f", "diffusion": "g", "prior_drift": "h"})  # fmt: skip
            xs = self.decoder(zs).transpose(0, 1)  # (B, L, D)
            sigma = torch.exp(self.log_sigma)
            ll = torch.distributions.Normal(xs, sigma).log_prob(yb).sum(dim=(1, 2))
            p0 = torch.distributions.Normal(self.z0_mean, torch.exp(self.z0_log_std))
            kl0 = torch.distributions.kl_divergence(torch.distributions.Normal(mean, std), p0).sum(dim=1)
            return -(ll - kl0 - logqp.sum(dim=0)).sum() / yb.numel()

        @torch.no_grad()
        def sample(self, t, n):
            z0 = self.z0_mean + torch.exp(self.z0_log_std) * torch.randn(n, K)
            zs = torchsde.sdeint(PriorOnly(self.sde), z0, t, method="euler", dt=DT)
            return self.decoder(zs).transpose(0, 1)

    scale = y.std()
    t = torch.as_tensor(so.times() / 1.0)  # pysciml's time scale here: the median span / 10 = 1
    yb = torch.as_tensor(((y - y.mean()) / scale)[:BATCH, :, None])
    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def step():
        opt.zero_grad()
        loss = model.loss(t, yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    rows = {"train_step_first": first_call(step)[:2], "train_step": best_of(step, repeats)[:2]}
    rows["sample_first"] = first_call(lambda: model.sample(t, N_SAMPLE))[:2]
    rows["sample"] = best_of(lambda: model.sample(t, N_SAMPLE), repeats)[:2]
    return rows, {"torch": torch.__version__, "torchsde": torchsde.__version__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if not args.quick:  # compile times from nothing, not from an earlier run's cache
        cold_compile_cache()
    repeats = 2 if args.quick else args.repeats
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cores = os.cpu_count() or 1
    load_start = os.getloadavg()[0]
    y = so.simulate(N_TRAIN, 0)
    ours, versions = pysciml_rows(y, repeats)
    theirs, tversions = torch_rows(y, repeats)
    load_end = os.getloadavg()[0]
    versions.update(tversions)
    ratios = {}
    if theirs is not None:
        for key in ("train_step", "sample"):
            ratios[f"{key}_wall"] = theirs[key][0] / ours[key][0]
            ratios[f"{key}_cpu"] = theirs[key][1] / ours[key][1]
    result = {
        "published": max(load_start, load_end) <= cores,
        "load_average_start": round(load_start, 2),
        "load_average_end": round(load_end, 2),
        "cores": cores,
        "cores_used": 1,
        "python": platform.python_version(),
        "versions": versions,
        "sizes": {
            "latent": K,
            "hidden": H,
            "context": C,
            "batch": BATCH,
            "sample_paths": N_SAMPLE,
            "dt": DT,
            "times": int(so.N_T),
            "sde_steps": ours["n_sde_steps"],
        },  # fmt: skip
        "pysciml": {k: v for k, v in ours.items() if k != "n_sde_steps"},
        "torchsde": theirs,
        "torchsde_over_pysciml": ratios,
    }
    print(json.dumps(result, indent=1))
    for key, r in ratios.items():
        print(f"torchsde / pysciml, {key}: {r:.1f}x")
    if args.quick and args.out is None:
        return 0
    if theirs is None and args.out is None:
        print("torch/torchsde not installed (the bench extra): not replacing the published comparison; "
              "pass --out DIR to keep pysciml's rows", file=sys.stderr)  # fmt: skip
        return 1
    out = Path(args.out) if args.out else HERE / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "generative.json").write_text(json.dumps(result, indent=2) + "\n")
    ms = lambda wc: f"{1e3 * wc[0]:.1f} ({1e3 * wc[1]:.1f})"  # noqa: E731
    status = (
        ""
        if result["published"]
        else (
            f" **Unpublished**: the load average ({load_start:.1f} at start, {load_end:.1f} at end) exceeded the "
            f"{cores} cores; the timings are indicative only."
        )
    )
    lines = [
        "# Latent SDE: pysciml vs torchsde",
        "",
        f"One core (pinned), one torch thread, float64, Python {result['python']}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f". {N_TRAIN} noisy damped oscillators (41 times), K={K}, hidden {H}, context {C}, "
        f"Euler-Maruyama dt={DT} ({ours['n_sde_steps']} steps), batch {BATCH}, {N_SAMPLE} sample paths; "
        f"best of {repeats} after a warm-up call. Times in ms, CPU time in brackets.{status}",
        "",
        "| | pysciml | torchsde | torchsde / pysciml (wall, CPU) |",
        "|---|---|---|---|",
    ]
    for key, label in (("train_step", "training step"), ("sample", "sample batch")):
        if theirs is None:
            lines.append(f"| {label} | {ms(ours[key])} | not installed | |")
        else:
            lines.append(f"| {label} | {ms(ours[key])} | {ms(theirs[key])} | "
                         f"{ratios[key + '_wall']:.1f}x, {ratios[key + '_cpu']:.1f}x |")  # fmt: skip
    for key, label in (("train_step_first", "first training step (pysciml: compiles)"),
                       ("sample_first", "first sample batch (pysciml: compiles)")):  # fmt: skip
        lines.append(f"| {label} | {ms(ours[key])} | {ms(theirs[key]) if theirs else ''} | |")
    (out / "generative.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
