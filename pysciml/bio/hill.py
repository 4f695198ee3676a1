"""Hill functions for gene regulation, usable in both kinds of rate law.

* With numbers, arrays, tracers or sympy symbols they return the value
  (``hill_repression(p, K, n)`` inside a Python rate function).
* With a species name as text they return the rate-law text
  (``rate=f"alpha * {hill_repression('p3', 'K', 'n')}"``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["hill_activation", "hill_repression"]


def _text(value) -> str:
    return f"({value})" if isinstance(value, str) else repr(float(value))


def hill_activation(x: Any, K: Any = 1.0, n: Any = 1.0) -> Any:
    """``x^n / (K^n + x^n)``: 0 without activator, 1/2 at ``x = K``, 1 when saturated."""
    if isinstance(x, str):
        x, K, n = _text(x), _text(K), _text(n)
        return f"({x}**{n} / ({K}**{n} + {x}**{n}))"
    xn = x**n
    return xn / (K**n + xn)


def hill_repression(x: Any, K: Any = 1.0, n: Any = 1.0) -> Any:
    """``1 / (1 + (x/K)^n)``: 1 without repressor, 1/2 at ``x = K``, 0 when saturated."""
    if isinstance(x, str):
        x, K, n = _text(x), _text(K), _text(n)
        return f"(1 / (1 + ({x} / {K})**{n}))"
    return 1.0 / (1.0 + (x / K) ** n)
