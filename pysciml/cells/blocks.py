"""The functions ``xarray.apply_ufunc`` runs on each block of cells (in-memory, dask or a cluster).

Each is a small picklable object holding the frozen spec; called on numpy blocks
whose leading axes are grid axes, it flattens them to cells, drops masked and
empty cells (they never reach the engine), runs the engine on the rest and puts
NaN / ``Status.SKIPPED`` back in the others.
"""

from __future__ import annotations

import numpy as np

from ..engines.registry import get_engine
from ..engines.requests import Batching, CellBlock, FitHooks
from ..status import Status

__all__ = ["FitBlock", "SolveBlock", "cells_with_data"]


def cells_with_data(y: np.ndarray, cell_mask: np.ndarray) -> np.ndarray:
    """(n,) True for cells to fit: not masked and at least two times with an observation."""
    observed = np.zeros(y.shape[:2], bool)
    for j in range(y.shape[2]):  # one state at a time: no temporary of y's size
        observed |= ~np.isnan(y[:, :, j])
    return cell_mask & (observed.sum(axis=1) >= 2)


class FitBlock:
    """Fit the cells of one block.

    Called as ``block(*states, mask, *z0, *u0)``: ``states`` (..., n_t) for each state
    present in the data (``present`` gives their positions among the model's states),
    ``mask`` (...) bool, ``z0`` (..., *shape) unconstrained per-cell starts (``z0_names``),
    ``u0`` (...) per state when ``has_u0``, and with a checkpoint ``ids`` (...) the global index of
    every cell (groups of cells are saved as they finish and taken from the checkpoint when
    already there).  Returns the per-cell outputs in the order of
    :meth:`output_names`.
    """

    def __init__(
        self,
        spec,
        present,
        z0_names,
        has_u0,
        n_hist,
        engine,
        batching: Batching,
        progress=None,
        checkpoint=None,
        estimate=None,
    ):
        self.spec, self.present, self.z0_names, self.has_u0 = spec, tuple(present), tuple(z0_names), has_u0
        self.n_hist, self.engine, self.batching, self.progress = n_hist, engine, batching, progress
        self.checkpoint = checkpoint  # a CellCheckpoint: then the last array holds global cell indices
        self.estimate = estimate  # estimate(info) after the first batch (FitHooks.estimate)
        self.fit_sigma = getattr(spec.loss, "sigma", None) == "fit"
        self.info = {}  # batch size, predicted bytes and solver of the last block run in this process

    def output_names(self) -> list[str]:
        names = [f.name for f in self.spec.per_cell] + ["u0", "loss", "status", "rejected_steps", "rmse", "history"]
        return names + (["sigma"] if self.fit_sigma else [])

    def __call__(self, *arrays):
        spec = self.spec
        k = len(self.present)
        states, mask = arrays[:k], arrays[k]
        rest = arrays[k + 1 :]
        z0_arrays = rest[: len(self.z0_names)]
        u0_arrays = rest[len(self.z0_names) : len(self.z0_names) + (spec.n_states if self.has_u0 else 0)]
        loop = np.shape(states[0])[:-1]
        n, n_t, n_s = int(np.prod(loop, dtype=int)), spec.t.size, spec.n_states
        y = np.full((n, n_t, n_s), np.nan)
        for j, a in zip(self.present, states):
            y[:, :, j] = np.asarray(a, dtype=np.float64).reshape(n, n_t)
        active = cells_with_data(y, np.broadcast_to(np.asarray(mask, bool), loop).reshape(n))
        shapes = {f.name: np.shape(f.z0) for f in spec.per_cell}
        out: dict[str, np.ndarray] = {f.name: np.full((n,) + shapes[f.name], np.nan) for f in spec.per_cell}
        out.update(
            u0=np.full((n, n_s), np.nan),
            loss=np.full(n, np.nan),
            status=np.full(n, int(Status.SKIPPED), np.int8),
            rejected_steps=np.zeros(n, np.int32),
            rmse=np.full((n, n_s), np.nan),
            history=np.full((n, self.n_hist), np.nan, np.float32),
        )
        if self.fit_sigma:
            out["sigma"] = np.full((n, n_s), np.nan)
        if active.any():
            z0 = {
                name: np.broadcast_to(np.asarray(a, float), loop + shapes[name]).reshape((n,) + shapes[name])[active]
                for name, a in zip(self.z0_names, z0_arrays)
            }
            u0 = None
            if self.has_u0:
                u0 = np.stack([np.broadcast_to(np.asarray(a, float), loop).reshape(n) for a in u0_arrays], axis=1)[
                    active
                ]
            idx = np.flatnonzero(active)
            if self.checkpoint is None:
                self._fit_group(y, idx, z0, u0, out)
            else:
                ids = np.asarray(arrays[-1]).reshape(n).astype(np.int64)
                self._fit_checkpointed(y, idx, z0, u0, ids, out)
        return tuple(out[name].reshape(loop + out[name].shape[1:]) for name in self.output_names())

    def _fit_group(self, y, idx, z0, u0, out) -> None:
        """Fit the cells ``idx`` of the block and write their outputs into ``out``."""
        res = get_engine(self.engine).fit_cells(
            self.spec,
            CellBlock(y, idx, z0, u0),
            self.batching,
            FitHooks(progress=self.progress, estimate=self.estimate),
        )
        self.info = {
            "cells_per_batch": int(res.batch),
            "predicted_batch_bytes": int(res.predicted_bytes),
            "solver": res.solver,
        }
        for f in self.spec.per_cell:
            out[f.name][idx] = res.params[f.name]
        out["u0"][idx] = res.u0
        out["loss"][idx] = res.loss
        out["status"][idx] = res.status
        out["rejected_steps"][idx] = res.rejected
        out["rmse"][idx] = res.rmse
        out["history"][idx] = res.history
        if self.fit_sigma:
            out["sigma"][idx] = res.sigma

    def _fit_checkpointed(self, y, idx, z0, u0, ids, out) -> None:
        """Fit the active cells ``idx`` in fixed groups, saving each; groups already saved are read back."""
        ckpt = self.checkpoint
        assert ckpt is not None
        names = self.output_names()
        done = ckpt.done(ids[idx])
        saved = np.isin(ids[idx], done["ids"]) if done else np.zeros(idx.size, bool)
        if saved.any():
            row = {int(g): i for i, g in enumerate(ids)}
            rows = np.array([row[int(g)] for g in done["ids"]])
            for name in names:
                out[name][rows] = done[name]
            if self.progress is not None:
                self.progress(int(rows.size))
        for start in range(0, idx.size, ckpt.cells):
            group = np.arange(start, min(start + ckpt.cells, idx.size))
            if saved[group].all():
                continue
            cells = idx[group]
            self._fit_group(y, cells, {k: v[group] for k, v in z0.items()}, None if u0 is None else u0[group], out)
            ckpt.save(ids[cells], {name: out[name][cells] for name in names})


class SolveBlock:
    """Solve the cells of one block: ``block(active, *u0 per state, *per-cell params)`` -> (..., n_t, n_s)."""

    def __init__(self, spec, engine, batching: Batching):
        self.spec, self.engine, self.batching = spec, engine, batching

    def __call__(self, active, *arrays):
        spec = self.spec
        n_s = spec.model.n_states
        loop = np.shape(active)
        n = int(np.prod(loop, dtype=int))
        u0 = np.stack([np.broadcast_to(np.asarray(a, float), loop).reshape(n) for a in arrays[:n_s]], axis=1)
        params = {}
        for name, a in zip(spec.per_cell, arrays[n_s:]):
            shape = spec.model.param_specs[name].shape
            params[name] = np.broadcast_to(np.asarray(a, float), loop + shape).reshape((n,) + shape)
        ok = np.asarray(active, bool).reshape(n) & np.isfinite(u0).all(axis=1)
        for v in params.values():
            ok &= np.isfinite(v.reshape(n, -1)).all(axis=1)
        out = np.full((n, spec.ts.size, n_s), np.nan)
        status = np.full(n, int(Status.SKIPPED), np.int8)
        if ok.any():
            res = get_engine(self.engine).solve_cells(
                spec, u0[ok], {k: v[ok] for k, v in params.items()}, self.batching
            )
            out[ok] = res.u
            status[ok] = res.status
        return out.reshape(loop + out.shape[1:]), status.reshape(loop)
