"""Observations: padding, per-state scales, windows for growing horizons, immutability."""

from __future__ import annotations

import numpy as np
import pytest

from pysciml.data import as_observations, robust_scales
from pysciml.errors import DataError, InputError

STATES = ["a", "b"]


@pytest.fixture
def obs():
    t1 = np.array([0.0, 0.5, 1.5, 2.0, 4.0])
    y1 = np.array([[1.0, 10.0], [2.0, np.nan], [np.nan, 30.0], [4.0, 40.0], [5.0, 50.0]])
    t2 = np.array([1.0, 3.0, 3.5])
    y2 = np.array([[np.nan, 100.0], [7.0, np.nan], [8.0, 80.0]])
    return as_observations([(t1, y1), (t2, y2)], states=STATES)


def test_padded_arrays_mark_padding_and_missing(obs):
    p = obs.to_padded()
    assert p.t.shape == (2, 5) and p.y.shape == (2, 5, 2) and p.mask.shape == (2, 5, 2)
    np.testing.assert_array_equal(p.lengths, [5, 3])
    np.testing.assert_array_equal(p.valid, [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(p.t[1], [1.0, 3.0, 3.5, 3.5, 3.5])  # last time repeated
    assert not p.mask[1, 3:].any()  # padded points never observed
    assert not np.isnan(p.y).any()  # fill everywhere not observed
    np.testing.assert_array_equal(p.mask[0, :, 1], [1, 0, 1, 1, 1])
    assert p.y[0, 1, 1] == 0.0 and p.y[0, 3, 1] == 40.0
    for i, tr in enumerate(obs):  # observed values unchanged
        np.testing.assert_array_equal(p.y[i, : tr.n_times][tr.mask], tr.y[tr.mask])
    assert np.all(np.diff(p.t, axis=1) >= 0)


def test_padded_fixed_length_and_fill(obs):
    p = obs.to_padded(7, fill=np.nan)
    assert p.t.shape == (2, 7) and np.isnan(p.y[1, 3:]).all()
    with pytest.raises(InputError, match="length"):
        obs.to_padded(4)


def test_scales_are_std_of_observed_values_pooled(obs):
    a = np.array([1.0, 2.0, 4.0, 5.0, 7.0, 8.0])
    b = np.array([10.0, 30.0, 40.0, 50.0, 100.0, 80.0])
    np.testing.assert_allclose(obs.scales, [a.std(), b.std()], rtol=1e-15)


def test_scales_never_zero():
    ys = [np.array([[3.0, 0.0, np.nan], [3.0, 0.0, np.nan]])]
    np.testing.assert_array_equal(robust_scales(ys), [3.0, 1.0, 1.0])  # rms, then 1, unobserved -> 1
    assert robust_scales([np.array([[-2.0], [np.nan]])])[0] == 2.0


def test_subset_absolute_window_keeps_scales(obs):
    sub = obs.subset(t_max=2.0)
    np.testing.assert_array_equal(sub[0].t, [0.0, 0.5, 1.5, 2.0])
    np.testing.assert_array_equal(sub[1].t, [1.0])
    assert sub.scales is obs.scales
    with pytest.raises(DataError, match="t_max: trajectory '1'.*no observation"):
        obs.subset(t_max=0.8)
    assert len(obs.subset(t_max=0.8, drop_empty=True)) == 1
    np.testing.assert_array_equal(obs.subset(t_min=3.0)[0].t, [4.0])


def test_truncate_relative_to_each_start(obs):
    tr = obs.truncate(2.0)
    np.testing.assert_array_equal(tr[0].t, [0.0, 0.5, 1.5, 2.0])
    np.testing.assert_array_equal(tr[1].t, [1.0, 3.0])
    np.testing.assert_array_equal(tr[1].coord, [1.0, 3.0])
    np.testing.assert_array_equal(obs.truncate(0.0)[1].t, [1.0])
    with pytest.raises(InputError, match="horizon"):
        obs.truncate(-1.0)


def test_growing_horizon_keeps_padded_shape(obs):
    shapes = {obs.truncate(h).to_padded(5).y.shape for h in (1.0, 2.0, 3.0, 10.0)}
    assert shapes == {(2, 5, 2)}


def test_trajectories_are_read_only(obs):
    with pytest.raises(ValueError):
        obs[0].y[0, 0] = 99.0
    with pytest.raises(ValueError):
        obs.scales[0] = 1.0
    with pytest.raises(AttributeError):
        obs[0].t = np.zeros(5)


def test_first_values_and_repr(obs):
    np.testing.assert_array_equal(obs.first_values(), [[1.0, 10.0], [np.nan, 100.0]])
    assert "2 trajectories" in repr(obs) and "Trajectory('0'" in repr(obs[0])
