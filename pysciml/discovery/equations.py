"""The result of a discovery: sparse equations for each output of a network.

``Equations`` holds, for each network output, the coefficients of the
library features that were kept; it prints them (``nn[0] = -0.900*prey*predator``),
gives sympy expressions (``eqs[0]``), predicts in numpy, saves to a JSON-able
dict and builds a pure-physics model (:meth:`Equations.to_model`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..display import html_card, html_table
from ..errors import FileFormatError, InputError
from ..plotting.discovery import plot_network_vs_equations
from .expressions import check_names, compile_expression, require_sympy
from .libraries import Feature, wrap_feature
from .to_model import coefficient_names, equations_to_model

__all__ = ["Equations", "format_number", "FORMAT", "FORMAT_VERSION"]

FORMAT = "pysciml.equations"
FORMAT_VERSION = 1


def format_number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, fixed-point for 1e-3 <= |value| < 1e5."""
    a = abs(float(value))
    if a == 0:
        return "0"
    if not math.isfinite(a):
        return str(value)
    # the exponent after rounding, so 99.96 -> 100 (not 100.0); integer digits are never dropped
    e = math.floor(math.log10(float(f"{a:.{max(digits - 1, 0)}e}")))
    if -3 <= e < 5:
        s = f"{a:.{max(digits - 1 - e, 0)}f}"
    else:
        s = f"{a:.{max(digits - 1, 0)}e}"
    return ("-" if value < 0 else "") + s


def _finite_or_none(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _jsonable(obj) -> Any:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return _finite_or_none(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class Equations:
    """Discovered equations for the outputs of one network.

    Built by :func:`pysciml.discovery.discover` (or a fitted estimator's
    ``discover``); not usually constructed by hand.

    Args:
        features: all library features, in library order.
        coefficients: (n_features, n_outputs) coefficients; zeros are dropped terms.
        input_names: names of the network inputs.
        output_name: name used when printing (``"nn"`` prints ``nn[0] = ...``).
        r2, rmse: (n_outputs,) fit quality on the samples used.
        thresholds: (n_outputs,) threshold used for each output.
        path: per output, the ``threshold="auto"`` path (or None).
        n_samples: number of samples the fit used.
        library: description of the library.
        options: the regression options (for the record).
        model: the ``ODEModel`` whose network this describes (for :meth:`to_model`).
        network: that network's name in ``model`` (default ``output_name``).
    """

    def __init__(
        self,
        features: Sequence[Feature],
        coefficients,
        *,
        input_names: Sequence[str],
        output_name: str = "nn",
        r2=None,
        rmse=None,
        thresholds=None,
        path=None,
        n_samples: int | None = None,
        library: str | None = None,
        options: Mapping[str, Any] | None = None,
        model=None,
        network: str | None = None,
    ):
        self._features = tuple(features)
        coef = np.array(coefficients, dtype=float)
        if coef.ndim == 1:
            coef = coef[:, None]
        if coef.shape[0] != len(self._features):
            raise InputError(
                f"has {coef.shape[0]} rows but there are {len(self._features)} features.", argument="coefficients"
            )
        coef.flags.writeable = False
        self._coef = coef
        self.input_names = check_names(input_names)
        self.output_name = str(output_name)
        n_out = coef.shape[1]
        self.r2 = np.full(n_out, np.nan) if r2 is None else np.asarray(r2, dtype=float).reshape(n_out)
        self.rmse = np.full(n_out, np.nan) if rmse is None else np.asarray(rmse, dtype=float).reshape(n_out)
        self.thresholds = (
            np.full(n_out, np.nan) if thresholds is None else np.asarray(thresholds, dtype=float).reshape(n_out)
        )
        self.path = path
        self.n_samples = n_samples
        self.library = library
        self.options = dict(options or {})
        self.model = model
        self.network = network

    # -- contents ---------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        return self._coef.shape[1]

    @property
    def features(self) -> tuple[Feature, ...]:
        """All library features, in library order."""
        return self._features

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self._features]

    @property
    def coefficient_matrix(self) -> np.ndarray:
        """(n_features, n_outputs) coefficients, full precision; zeros are dropped terms."""
        return self._coef.copy()

    @property
    def coefficients(self) -> list[dict[str, float]]:
        """Per output, ``{feature name: coefficient}`` of the kept terms (full precision)."""
        return [
            {f.name: float(self._coef[j, i]) for j, f in enumerate(self._features) if self._coef[j, i] != 0}
            for i in range(self.n_outputs)
        ]

    def terms(self, output: int) -> list[tuple[Feature, float]]:
        """The kept ``(feature, coefficient)`` pairs of one output, in library order."""
        i = self._index(output)
        return [(f, float(self._coef[j, i])) for j, f in enumerate(self._features) if self._coef[j, i] != 0]

    @property
    def n_terms(self) -> list[int]:
        """Number of kept terms per output."""
        return [int(np.count_nonzero(self._coef[:, i])) for i in range(self.n_outputs)]

    def _index(self, output) -> int:
        if isinstance(output, (bool, np.bool_)) or not isinstance(output, (int, np.integer)):
            raise InputError(f"must be an integer output index, got {output!r}.", argument="output")
        i = int(output) + (self.n_outputs if output < 0 else 0)
        if not 0 <= i < self.n_outputs:
            raise IndexError(f"output {output} out of range; there are {self.n_outputs} outputs.")
        return i

    # -- sympy ------------------------------------------------------------------------
    def symbols(self) -> dict:
        """The sympy symbols of the inputs, by name."""
        sympy = require_sympy()

        return {n: sympy.Symbol(n) for n in self.input_names}

    def expression(self, output: int, digits: int | None = None):
        """The sympy expression of one output in the input symbols.

        Args:
            output: output index.
            digits: round coefficients to this many significant digits (default: full precision).
        """
        sympy = require_sympy()

        syms = self.symbols()
        total = sympy.Integer(0)
        for f, c in self.terms(output):
            if digits is not None:
                c = float(f"{c:.{digits}g}")
            total += sympy.Float(c) * f.sympy(syms)
        return total

    def __getitem__(self, output):
        if isinstance(output, slice):
            return [self.expression(i) for i in range(self.n_outputs)[output]]
        return self.expression(output)

    def __len__(self):
        return self.n_outputs

    def __iter__(self):
        return (self.expression(i) for i in range(self.n_outputs))

    # -- printing ---------------------------------------------------------------------
    def equation(self, output: int, digits: int = 3) -> str:
        """One line, ``nn[0] = -0.900*prey*predator``, coefficients to ``digits`` significant digits."""
        i = self._index(output)
        parts = []
        for f, c in self.terms(i):
            num = format_number(abs(c), digits)
            body = num if f.is_constant and f.name == "1" else f"{num}*{wrap_feature(f.name)}"
            if not parts:
                parts.append(("-" if c < 0 else "") + body)
            else:
                parts.append(("- " if c < 0 else "+ ") + body)
        return f"{self.output_name}[{i}] = " + (" ".join(parts) if parts else "0")

    def format(self, digits: int = 3) -> str:
        """All equations, one per line."""
        return "\n".join(self.equation(i, digits) for i in range(self.n_outputs))

    def __str__(self):
        return self.format()

    def __repr__(self):
        return self.format()

    def summary(self, digits: int = 6) -> str:
        """Equations with fit quality: per output R², RMSE, threshold and the coefficient table."""
        lines = []
        for i in range(self.n_outputs):
            lines.append(
                f"{self.equation(i, 3)}    (R² = {self.r2[i]:.6g}, RMSE = {self.rmse[i]:.3g}, "
                f"threshold = {self.thresholds[i]:.3g})"
            )
            for f, c in self.terms(i):
                lines.append(f"    {f.name:<24s} {c: .{digits}g}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The equations typeset (LaTeX through sympy when installed) with R² and RMSE."""
        try:
            latex = require_sympy().latex
            shown = [
                f"$${self.output_name}_{{{i}}} = {latex(self.expression(i, digits=3))}$$" for i in range(self.n_outputs)
            ]
        except ImportError:
            shown = [self.equation(i) for i in range(self.n_outputs)]
        rows = [(shown[i], f"{self.r2[i]:.4g}", f"{self.rmse[i]:.3g}", self.n_terms[i]) for i in range(self.n_outputs)]
        return html_card(
            f"Equations for {self.output_name} in {', '.join(self.input_names)}",
            [f"fitted on {self.n_samples} samples"] if self.n_samples else [],
            [html_table(["equation", "R²", "RMSE", "terms"], rows)],
        )

    def plot(self, X=None, Y=None, *, n_points: int = 200, ax=None):
        """Draw the network's output against these equations over the data range; ``(fig, axes)``.

        Args:
            X, Y: network inputs ``(n, n_inputs)`` and outputs ``(n, n_outputs)``; default:
                sampled along the fitted trajectories of the model the equations came from
                (``model.network_samples``).
            n_points: samples per trajectory when drawing from the model.
            ax: an Axes (or one per output) to draw into.
        """
        if X is None or Y is None:
            if self.model is None or self.network is None:
                raise InputError(
                    "these equations carry no fitted model; pass the network's inputs and outputs: eqs.plot(X, Y).",
                    argument="X",
                )
            X, Y = self.model.network_samples(self.network, n_points=n_points)
        Y = np.asarray(Y, dtype=float).reshape(len(Y), -1)
        return plot_network_vs_equations(Y, self.predict(X), [self.equation(i) for i in range(self.n_outputs)], ax=ax)

    # -- numbers ----------------------------------------------------------------------
    def predict(self, X) -> np.ndarray:
        """The equations evaluated on inputs ``X`` (n_samples, n_inputs) -> (n_samples, n_outputs)."""
        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and len(self.input_names) == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != len(self.input_names):
            raise InputError(
                f"has shape {X.shape}; expected (n_samples, {len(self.input_names)}) with columns "
                f"{list(self.input_names)}.",
                argument="X",
            )
        out = np.zeros((X.shape[0], self.n_outputs))
        for j, f in enumerate(self._features):
            if np.any(self._coef[j]):
                out += np.outer(f.evaluate(X), self._coef[j])
        return out

    @property
    def parameters(self) -> dict[str, float]:
        """The coefficients as the parameters :meth:`to_model` adds, ``{name: value}``.

        Names are ``<network>_<output>__<feature>`` with the feature name made
        an identifier (``prey*predator`` -> ``nn_0__prey_predator``,
        ``prey^2`` -> ``nn_0__prey_pow2``, ``1`` -> ``nn_0__const``).
        :meth:`to_model` appends ``_2``, ``_3``... to a name the model already uses.
        """

        names = coefficient_names(self, self.network or self.output_name, taken=())
        return {n: c for per_out, i in zip(names, range(self.n_outputs)) for n, (_, c) in zip(per_out, self.terms(i))}

    def to_model(self, model=None, network: str | None = None, *, name: str | None = None, model_class=None):
        """A pure-physics model: the network replaced by these equations, coefficients as parameters.

        Args:
            model: the ``ODEModel`` whose physics calls ``p.<network>(x)``
                (default: the model attached by the estimator).
            network: the network's name in ``model`` (default: the attached
                name, else ``output_name``).
            name: name of the new model (default ``<model name>_discovered``).
            model_class: class to build (default :class:`pysciml.ODEModel`);
                it is called as ``model_class(physics, states, params, networks,
                name=, time_units=, u0=)``.

        Returns:
            a model with the same states and physics parameters, one parameter
            per kept coefficient (see :attr:`parameters`; defaults are the
            discovered values) and no ``network``.
        """

        return equations_to_model(self, model, network, name=name, model_class=model_class)

    def with_model(self, model, network: str | None = None) -> Equations:
        """A copy attached to ``model`` (and its network's name) so :meth:`to_model` needs no arguments."""
        import copy

        new = copy.copy(self)
        new.model, new.network = model, network or self.network
        return new

    # -- persistence ------------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-able dict (exact: floats keep full precision; the model itself is not stored)."""
        return _jsonable(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "output_name": self.output_name,
                "network": self.network,
                "input_names": list(self.input_names),
                "features": [{"name": f.name, "expression": f.expression} for f in self._features],
                "coefficients": self._coef.tolist(),
                "r2": self.r2.tolist(),
                "rmse": self.rmse.tolist(),
                "thresholds": self.thresholds.tolist(),
                "n_samples": self.n_samples,
                "library": self.library,
                "options": self.options,
                "path": self.path,
            }
        )

    @classmethod
    def from_dict(cls, data: Mapping, *, model=None, network: str | None = None) -> Equations:
        """Rebuild from :meth:`to_dict` output (feature texts are parsed safely, never evaluated)."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise FileFormatError(f"is not a saved pysciml Equations (expected format {FORMAT!r}).", argument="data")
        if data.get("version") != FORMAT_VERSION:
            raise FileFormatError(
                f"has format version {data.get('version')!r}; this pysciml reads version "
                f"{FORMAT_VERSION}. Upgrade pysciml to read it.",
                argument="data",
            )
        try:
            names = tuple(data["input_names"])
            feats = tuple(Feature(str(f["name"]), str(f["expression"]), names) for f in data["features"])
            for f in feats:
                compile_expression(f.expression, names, argument="data.features")
            nan = lambda v: [np.nan if x is None else x for x in v]  # noqa: E731
            return cls(
                feats,
                np.array(data["coefficients"], dtype=float).reshape(len(feats), -1),
                input_names=names,
                output_name=data["output_name"],
                r2=nan(data["r2"]),
                rmse=nan(data["rmse"]),
                thresholds=nan(data["thresholds"]),
                path=data.get("path"),
                n_samples=data.get("n_samples"),
                library=data.get("library"),
                options=data.get("options"),
                model=model,
                network=network or data.get("network"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FileFormatError(
                f"is a corrupt Equations record ({type(exc).__name__}: {exc}).", argument="data"
            ) from None
