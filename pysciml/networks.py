"""Neural-network declarations and their one flat parameter layout.

A network is *declared* here (engine-free); each engine builds it natively
(jax: a function of the flat vector, equinox-compatible; Julia: a Lux chain)
and reads the same flat vector, so a fit moves between engines.

Flat layout (documented, stable): for each layer ``l = 0..depth`` in order,
the weight matrix ``W_l`` of shape ``(n_out_l, n_in_l)`` in row-major (C)
order, then the bias ``b_l`` of length ``n_out_l``.  A layer computes
``act(W_l @ x + b_l)``; the last layer uses ``final_activation``.

Initial weights are drawn here with numpy (Glorot-uniform weights, zero
biases, the last layer scaled by ``last_layer_scale``) from an integer seed,
so both engines start from bit-identical parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from .errors import InputError, ModelError

__all__ = ["MLP", "ACTIVATIONS"]

ACTIVATIONS = ("tanh", "relu", "gelu", "softplus", "sigmoid", "swish", "elu", "identity", "rbf")


def _numpy_activation(name: str):
    return {
        "tanh": np.tanh,
        "relu": lambda x: np.maximum(x, 0.0),
        "gelu": lambda x: 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3))),
        "softplus": lambda x: np.logaddexp(x, 0.0),
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "swish": lambda x: x / (1.0 + np.exp(-x)),
        "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
        "identity": lambda x: x,
        "rbf": lambda x: np.exp(-(x**2)),
    }[name]


@dataclasses.dataclass(frozen=True)
class MLP:
    """A fully connected network ``n_in -> width x depth -> n_out``.

    Args:
        n_in: number of inputs.
        n_out: number of outputs.
        width: hidden layer width.
        depth: number of hidden layers (0 gives an affine map).
        activation: hidden activation, one of :data:`ACTIVATIONS`.
        final_activation: activation of the output layer (default ``"identity"``).
        inputs: names of the inputs, used by equation discovery (defaults to the
            state names when the network is called with the whole state).
        last_layer_scale: multiplies the initial weights of the output layer;
            small values start the network near zero so it does not swamp the
            known physics at the start of a fit.
    """

    n_in: int
    n_out: int
    width: int = 32
    depth: int = 2
    activation: str = "tanh"
    final_activation: str = "identity"
    inputs: tuple[str, ...] | None = None
    last_layer_scale: float = 0.1

    def __post_init__(self):
        for field in ("n_in", "n_out", "width"):
            v = getattr(self, field)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise ModelError(f"must be a positive integer, got {v!r}.", argument=f"MLP.{field}")
        if not isinstance(self.depth, (int, np.integer)) or isinstance(self.depth, bool) or self.depth < 0:
            raise ModelError(f"must be a non-negative integer, got {self.depth!r}.", argument="MLP.depth")
        for field in ("activation", "final_activation"):
            if getattr(self, field) not in ACTIVATIONS:
                raise ModelError(
                    f"unknown activation {getattr(self, field)!r}; choose one of {ACTIVATIONS}.",
                    argument=f"MLP.{field}",
                )
        scale = self.last_layer_scale
        if (
            isinstance(scale, bool)
            or not isinstance(scale, (int, float, np.integer, np.floating))
            or not (np.isfinite(scale) and scale >= 0)
        ):
            raise ModelError(f"must be a finite number >= 0, got {scale!r}.", argument="MLP.last_layer_scale")
        if self.inputs is not None:
            if isinstance(self.inputs, str) or not all(isinstance(n, str) for n in self.inputs):
                raise ModelError(
                    f"must be a list of input names, e.g. ('x', 'y'), got {self.inputs!r}.", argument="MLP.inputs"
                )
            names = tuple(self.inputs)
            if len(set(names)) != len(names):
                raise ModelError(f"names an input more than once: {list(names)}.", argument="MLP.inputs")
            if len(names) != self.n_in:
                raise ModelError(f"names {len(names)} inputs but n_in = {self.n_in}.", argument="MLP.inputs")
            object.__setattr__(self, "inputs", names)

    # -- layout ----------------------------------------------------------------
    @property
    def layer_sizes(self) -> tuple[tuple[int, int], ...]:
        """``(n_out_l, n_in_l)`` for each layer."""
        dims = [self.n_in] + [self.width] * self.depth + [self.n_out]
        return tuple((dims[i + 1], dims[i]) for i in range(len(dims) - 1))

    @property
    def n_params(self) -> int:
        return sum(o * i + o for o, i in self.layer_sizes)

    def unflatten(self, theta) -> list[tuple]:
        """Split a flat parameter vector (any array library) into ``[(W, b), ...]``."""
        out, k = [], 0
        for o, i in self.layer_sizes:
            w = theta[k : k + o * i].reshape(o, i)
            k += o * i
            b = theta[k : k + o]
            k += o
            out.append((w, b))
        return out

    def init(self, seed: int = 0) -> np.ndarray:
        """Initial flat parameters (float64), identical on every engine for a seed."""
        if not isinstance(seed, (int, np.integer)):
            raise InputError(f"seed must be an integer, got {seed!r}.", argument="seed")
        rng = np.random.default_rng(int(seed))
        parts = []
        n_layers = len(self.layer_sizes)
        for li, (o, i) in enumerate(self.layer_sizes):
            limit = np.sqrt(6.0 / (i + o))
            w = rng.uniform(-limit, limit, size=(o, i))
            if li == n_layers - 1:
                w = w * self.last_layer_scale
            parts += [w.reshape(-1), np.zeros(o)]
        return np.concatenate(parts)

    def apply_numpy(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Reference forward pass in numpy; ``x`` is ``(n_in,)`` or ``(batch, n_in)``."""
        x = np.asarray(x, dtype=float)
        act, fin = _numpy_activation(self.activation), _numpy_activation(self.final_activation)
        layers = self.unflatten(np.asarray(theta, dtype=float))
        for li, (w, b) in enumerate(layers):
            x = x @ w.T + b
            x = fin(x) if li == len(layers) - 1 else act(x)
        return x

    def input_names(self, state_names: Sequence[str] | None = None) -> tuple[str, ...]:
        """Names of the inputs: declared ones, else the state names if they fit, else x0, x1..."""
        if self.inputs is not None:
            return self.inputs
        if state_names is not None and len(state_names) == self.n_in:
            return tuple(state_names)
        return tuple(f"x{i}" for i in range(self.n_in))
