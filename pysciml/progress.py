"""Progress bars: the one place that opens one (tqdm), for fits, gridded cells, ensembles and MD runs."""

from __future__ import annotations

__all__ = ["open_bar"]


def open_bar(total: int, verbose: int, *, desc: str, unit: str):
    """A tqdm progress bar over ``total`` ``unit``s, or None when ``verbose`` is 0 (or tqdm is absent)."""
    if not verbose:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True)
