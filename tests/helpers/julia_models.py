"""Example models shared by the Julia-engine tests (no Julia needed to build them).

Each entry of :func:`example_models` is ``(id, model, u0_sampler)``.  Grid
models need :mod:`pysciml.grid`; they are left out (with the reason) when it
is not importable.
"""

from __future__ import annotations

import numpy as np

import pysciml as ps


def lotka_volterra(u, p, t, m):
    x, y = u
    return [p.alpha * x - p.beta * x * y, p.delta * x * y - p.gamma * y]


def lv_ude(u, p, t, m):
    x, y = u
    f = p.nn(u)
    return [p.alpha * x + f[0], -p.delta * y + f[1]]


def rober(u, p, t, m):
    y1, y2, y3 = u
    return [-p.k1 * y1 + p.k3 * y2 * y3,
            p.k1 * y1 - p.k3 * y2 * y3 - p.k2 * y2**2,
            p.k2 * y2**2]


def hires(u, p, t, m):
    y1, y2, y3, y4, y5, y6, y7, y8 = u
    return [
        -1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007,
        1.71 * y1 - 8.75 * y2,
        -10.03 * y3 + 0.43 * y4 + 0.035 * y5,
        8.32 * y2 + 1.71 * y3 - 1.12 * y4,
        -1.745 * y5 + 0.43 * y6 + 0.43 * y7,
        -280.0 * y6 * y8 + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7,
        280.0 * y6 * y8 - 1.81 * y7,
        -280.0 * y6 * y8 + 1.81 * y7,
    ]


def van_der_pol(u, p, t, m):
    x, y = u
    return m.stack([y, p.mu * ((1 - x**2) * y) - x])


def contract_zoo(u, p, t, m):
    """Scalar-mode model touching most of the math contract."""
    a, b, c = u
    s = m.sum(u) + m.mean(u) + m.dot(p.w, u) + m.prod(m.asarray([a, 1.5]))
    r = m.where(a > b, m.exp(-a), m.log1p(m.abs(b))) + m.clip(c, -0.5, 0.5)
    q = m.arctan2(a, b + 2.0) + m.expm1(0.1 * c) + m.sign(a - 0.3) * m.heaviside(b - 0.2)
    v = m.maximum(a, c) - m.minimum(b, m.pi / 4) + m.sqrt(m.abs(c) + 1) + m.power(m.abs(a) + 1, 1.5)
    w = m.sinh(0.1 * a) + m.cosh(0.1 * b) + m.tanh(c) + m.arcsin(0.5 * m.tanh(a)) + m.arccos(0.1 * b)
    z = m.floor(3 * a) + m.ceil(2 * b) + m.sin(t) * m.cos(a) * m.tan(0.1 * c) + m.arctan(c) + m.e
    mat = m.matmul(p.A, u)
    return m.concatenate([m.asarray([s + r, q - v]), m.reshape(w + z + mat[2], (1,))])


def sir_patches(u, p, t, m):
    """Array states: 20 patches with a mean-field coupling and array parameters."""
    S, I = u
    force = p.beta * I + p.mix * m.mean(I)
    inf = force * S
    return [-inf + p.gamma * m.maximum(I - 0.5, 0.0), inf - p.gamma * I * m.exp(-t)]


def diffusion_1d(u, p, t, m):
    """Hand-written method of lines with slicing and concatenation."""
    c = u
    inner = c[2:] - 2.0 * c[1:-1] + c[:-2]
    lap = m.concatenate([c[1:2] - c[0:1], inner, c[-2:-1] - c[-1:]])
    return p.D * lap - p.k * c[::-1] * 0.1


def grid_net(u, p, t, m):
    """A network applied per cell (features on the last axis) and a grid-wide sum."""
    T = u
    f = p.nn(m.stack([T, T**2], axis=-1))
    return f[..., 0] - p.k * T + 0.01 * m.sum(T) + m.zeros_like(T)


def _grid_models():
    try:
        from pysciml import grid
    except ImportError as exc:  # pysciml.grid not merged yet
        return [], f"pysciml.grid is not importable ({exc})"
    g = grid.RegularGrid((6, 8), spacing=(0.5, 0.25), periodic=(False, True))
    mask = np.ones((5, 7), bool)
    mask[2, 3] = False
    g2 = grid.RegularGrid((5, 7), spacing=1.0, boundary="dirichlet", boundary_value=0.3, mask=mask)

    def brusselator(u, p, t, m):
        U, V = u
        return [p.a + U**2 * V - (p.b + 1) * U + p.alpha * m.laplacian(U, g),
                p.b * U - U**2 * V + p.alpha * m.laplacian(V, g)]

    def transport(u, p, t, m):
        T, gm = u.T, u.gm
        dTy, dTx = m.gradient(T, g2)
        div = m.divergence((dTy, dTx), g2)
        adv = m.advect(T, (p.wind, 0.2 * T), g2, scheme="upwind")
        adv2 = m.advect(T, (1.0, -0.5), g2, scheme="centered")
        return {"T": adv + adv2 + 0.1 * div - p.lam * (T - gm), "gm": m.mean(T) - gm}

    models = [
        ("brusselator_grid", ps.ODEModel(brusselator, states={"U": (6, 8), "V": (6, 8)},
                                         params={"a": 1.0, "b": 3.0, "alpha": 0.02})),
        ("grid_ops", ps.ODEModel(transport, states={"T": (5, 7), "gm": None},
                                 params={"wind": np.linspace(0.1, 1.0, 35).reshape(5, 7), "lam": 0.5})),
    ]
    return models, None


def example_models():
    """``[(id, model)]`` of every example model, and a reason if grid models are missing."""
    rng = np.random.default_rng(5)
    models = [
        ("lotka_volterra", ps.ODEModel(lotka_volterra, ["prey", "predator"],
                                       {"alpha": 1.3, "beta": 0.9, "delta": 0.8, "gamma": 1.8})),
        ("lv_ude", ps.ODEModel(lv_ude, ["prey", "predator"], {"alpha": 1.3, "delta": 1.8},
                               networks={"nn": ps.MLP(2, 2, width=8, depth=2)})),
        ("rober", ps.ODEModel(rober, ["y1", "y2", "y3"], {"k1": 0.04, "k2": 3e7, "k3": 1e4})),
        ("hires", ps.ODEModel(hires, [f"y{i}" for i in range(1, 9)])),
        ("van_der_pol", ps.ODEModel(van_der_pol, ["x", "y"], {"mu": 1000.0})),
        ("contract_zoo", ps.ODEModel(contract_zoo, ["a", "b", "c"],
                                     {"w": [0.1, 0.2, 0.3], "A": rng.normal(size=(3, 3))})),
        ("sir_patches", ps.ODEModel(sir_patches, {"S": 20, "I": 20},
                                    {"beta": np.linspace(0.1, 0.5, 20), "gamma": 0.2, "mix": 0.05})),
        ("diffusion_1d", ps.ODEModel(diffusion_1d, {"c": 16}, {"D": 0.7, "k": 0.3})),
        ("grid_net", ps.ODEModel(grid_net, {"T": (4, 5)}, {"k": 0.4},
                                 networks={"nn": ps.MLP(2, 1, width=6, depth=1, activation="softplus")})),
    ]
    grid_models, reason = _grid_models()
    return models + grid_models, reason
