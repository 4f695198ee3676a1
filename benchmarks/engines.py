"""jax engine vs Julia engine, side by side in one run: ROBER, HIRES, the 2-D Brusselator
and the gradient of a universal differential equation's loss.

    python benchmarks/engines.py [--repeats 7] [--quick]

Each case is run once to compile (reported apart), then ``--repeats`` times; the
median is reported with the ratio jax / julia and the relative difference of the
results.  Results go to ``benchmarks/results/engines.json`` and ``.md``.  Without a
usable Julia the script says so and exits 0.  Timings on shared machines are noisy:
compare medians, never single runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import pysciml as ps

RESULTS = Path(__file__).resolve().parent / "results"


def rober_model():
    def rober(u, p, t, m):
        y1, y2, y3 = u
        return [-p.k1 * y1 + p.k3 * y2 * y3, p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2, p.k2 * y2**2]

    return ps.ODEModel(rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4})


def hires_model():
    def hires(u, p, t, m):
        y1, y2, y3, y4, y5, y6, y7, y8 = u
        return [-1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007, 1.71 * y1 - 8.75 * y2,
                -10.03 * y3 + 0.43 * y4 + 0.035 * y5, 8.32 * y2 + 1.71 * y3 - 1.12 * y4,
                -1.745 * y5 + 0.43 * y6 + 0.43 * y7,
                -280.0 * y6 * y8 + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7,
                280.0 * y6 * y8 - 1.81 * y7, -280.0 * y6 * y8 + 1.81 * y7]

    return ps.ODEModel(hires, [f"y{i}" for i in range(1, 9)])


def brusselator_model(n: int):
    grid = ps.grid.RegularGrid((n, n), extent=(1.0, 1.0), periodic=True)

    def brusselator(u, p, t, m):
        U, V = u
        return [1.0 + U**2 * V - 4.4 * U + p.alpha * m.laplacian(U, grid),
                3.4 * U - U**2 * V + p.alpha * m.laplacian(V, grid)]

    model = ps.ODEModel(brusselator, {"U": (n, n), "V": (n, n)}, {"alpha": 0.002})
    y, x = np.meshgrid((np.arange(n) + 0.5) / n, (np.arange(n) + 0.5) / n, indexing="ij")
    u0 = np.concatenate([(22 * y * (1 - y) ** 1.5).ravel(), (27 * x * (1 - x) ** 1.5).ravel()])
    return model, u0


def lv_ude():
    def lv(u, p, t, m):
        x, y = u
        f = p.nn(u)
        return [p.alpha * x + f[0], -p.delta * y + f[1]]

    return ps.ODEModel(lv, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                       networks={"nn": ps.MLP(2, 2, width=32, depth=2)})


def _median(fn, repeats):
    t0 = time.perf_counter()
    first = fn()
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, compile_s, statistics.median(times)


def _reldiff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / (np.abs(b) + 1e-12 * np.max(np.abs(b)))))


def solve_case(name, model, u0, t1, saveat, solver, rtol, atol, repeats):
    def run(engine):
        return lambda: ps.solve(model, u0, (0.0, t1), saveat, solver=solver, rtol=rtol, atol=atol, engine=engine)

    (sj, cj, mj) = _median(run("jax"), repeats)
    (sl, cl, ml) = _median(run("julia"), repeats)
    return {"case": name, "jax_s": mj, "julia_s": ml, "ratio_jax_over_julia": mj / ml,
            "jax_compile_s": cj, "julia_compile_s": cl, "status": [int(sj.status), int(sl.status)],
            "rel_diff_final_state": _reldiff(np.asarray(sj.u)[-1], np.asarray(sl.u)[-1])}


def ude_gradient_case(repeats):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    from pysciml.engines import get_engine

    model = lv_ude()
    w = model.init_networks(0)["nn"]
    t = np.linspace(0.1, 5.0, 40)
    truth = ps.ODEModel(lambda u, p, t, m: [1.3 * u[0] - 0.9 * u[0] * u[1], 0.8 * u[0] * u[1] - 1.8 * u[1]],
                        ["prey", "predator"])
    ys = np.asarray(ps.solve(truth, [0.44249296, 4.6280594], (0.0, 5.0), t, rtol=1e-10, atol=1e-12).u)
    scale = ys.std(axis=0)

    def jax_loss(w_):
        sol = ps.solve(model, [0.44249296, 4.6280594], (0.0, 5.0), t, params={"nn": w_}, solver=ps.Tsit5(),
                       rtol=1e-6, atol=1e-8, engine="jax")
        return jnp.mean(((sol.u - ys) / scale) ** 2)

    vg = jax.jit(jax.value_and_grad(jax_loss))
    (lj, gj), cj, mj = _median(lambda: jax.block_until_ready(vg(jnp.asarray(w))), repeats)
    eng = get_engine("julia")
    rows = []
    for adjoint in ("gauss:zygote", "gauss:enzyme", "interpolating:reversediff", "direct"):
        def run(adjoint=adjoint):
            return eng.loss_and_grad(model, network_params={"nn": w}, u0=[[0.44249296, 4.6280594]], t0=0.0,
                                     ts=t[None], ys=ys[None], mask=np.ones_like(ys[None], bool), scale=scale,
                                     solver=ps.Tsit5(), adjoint=adjoint, rtol=1e-6, atol=1e-8)

        res, cl, ml = _median(run, repeats)
        rows.append({"case": f"UDE value+gradient ({adjoint})", "jax_s": mj, "julia_s": ml,
                     "ratio_jax_over_julia": mj / ml, "jax_compile_s": cj, "julia_compile_s": cl,
                     "rel_diff_loss": abs(float(lj) - res.loss) / abs(float(lj)),
                     "rel_diff_gradient": _reldiff(res.grad_networks["nn"], np.asarray(gj))})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="smaller Brusselator, fewer repeats")
    args = ap.parse_args(argv)
    from pysciml.engines.julia import JuliaEngine
    from pysciml.engines.julia.bridge import find_julia

    ok, reason = JuliaEngine.availability()
    if not ok or find_julia() is None:
        why = reason if not ok else "no Julia executable found"
        print(f"engines benchmark: the Julia engine cannot run here: {why}. Nothing to compare; install "
              "Julia (or set PYTHON_JULIAPKG_EXE) and pip install 'pysciml[julia]'.")
        return 0
    repeats = 3 if args.quick else args.repeats
    n = 8 if args.quick else 16
    rows = [
        solve_case("ROBER Rodas5P rtol 1e-8", rober_model(), [1.0, 0.0, 0.0], 1e5, [0.0, 1e2, 1e5],
                   ps.Rodas5P(), 1e-8, 1e-10, repeats),
        solve_case("HIRES Rodas5P rtol 1e-8", hires_model(), [1, 0, 0, 0, 0, 0, 0, 0.0057], 321.8122,
                   [0.0, 321.8122], ps.Rodas5P(), 1e-8, 1e-10, repeats),
    ]
    model, u0 = brusselator_model(n)
    rows.append(solve_case(f"Brusselator {n}x{n} ({2 * n * n} states) auto", model, u0, 11.5, [0.0, 11.5],
                           "auto", 1e-6, 1e-8, repeats))
    rows += ude_gradient_case(repeats)
    info = JuliaEngine().info()
    out = {"machine": platform.platform(), "python": sys.version.split()[0], "julia": info.get("julia"),
           "julia_threads": info.get("threads"), "repeats": repeats, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "engines.json").write_text(json.dumps(out, indent=2))
    lines = ["| case | jax (ms) | julia (ms) | jax / julia | compile jax / julia (s) | agreement |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        agree = r.get("rel_diff_final_state", r.get("rel_diff_gradient"))
        lines.append(f"| {r['case']} | {1e3 * r['jax_s']:.3g} | {1e3 * r['julia_s']:.3g} | "
                     f"{r['ratio_jax_over_julia']:.2f} | {r['jax_compile_s']:.1f} / {r['julia_compile_s']:.1f} | "
                     f"{agree:.1e} |")
    table = "\n".join(lines)
    (RESULTS / "engines.md").write_text(f"# jax vs Julia engine\n\n{out['machine']}, Julia {out['julia']}, "
                                        f"{out['julia_threads']} threads, median of {repeats}.\n\n{table}\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
