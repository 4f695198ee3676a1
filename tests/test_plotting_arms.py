"""Pictures of a robot arm's motion, read back and compared with textbook two-link kinematics.

For a planar two-link arm with rods ``l1``, ``l2`` and joint angles ``q1``, ``q2`` (from +x, joint 2
relative to link 1), the elbow is at ``l1 (cos q1, sin q1)`` and the hand at
``elbow + l2 (cos(q1 + q2), sin(q1 + q2))``: every drawn pose and the tool-point path must sit there.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib", reason="pictures need the plot extra (matplotlib)")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from helpers.pictures import png_pixels  # noqa: E402

import pysciml as ps  # noqa: E402
from pysciml import physics as phys  # noqa: E402
from pysciml.errors import InputError  # noqa: E402
from pysciml.plotting import plot_arm_motion  # noqa: E402

L1, L2 = 1.0, 0.7


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def textbook(q):
    """Elbow and hand of the planar two-link arm at joint angles ``q`` (..., 2)."""
    q1, q12 = q[..., 0], q[..., 0] + q[..., 1]
    elbow = np.stack([L1 * np.cos(q1), L1 * np.sin(q1)], axis=-1)
    hand = elbow + np.stack([L2 * np.cos(q12), L2 * np.sin(q12)], axis=-1)
    return elbow, hand


@pytest.fixture(scope="module")
def swing():
    arm = phys.SerialArm.planar(lengths=[L1, L2], masses=[1.0, 0.5], damping=0.05)
    t = np.linspace(0.0, 2.0, 21)
    sol = ps.solve(arm.model(), arm.state([0.4, -0.3]), (0, 2.0), saveat=t, rtol=1e-10, atol=1e-10)
    assert sol.ok
    return arm, sol


def test_tip_position_is_the_hand_of_the_two_link_arm():
    arm = phys.SerialArm.planar(lengths=[L1, L2], masses=[1.0, 0.5])
    q = np.random.default_rng(0).uniform(-np.pi, np.pi, (50, 2))
    tips = np.array([arm.tip_position(qq) for qq in q])
    _, hand = textbook(q)
    np.testing.assert_allclose(tips[:, :2], hand, atol=1e-12)
    np.testing.assert_allclose(tips[:, 2], 0.0, atol=1e-15)
    # negative control: with the tool point at the last joint (the constructor's default) the same
    # check fails by about a rod length, so it does see where the point is
    elbow_arm = phys.SerialArm.planar(lengths=[L1, L2], masses=[1.0, 0.5], tip_point=(0.0, 0.0, 0.0))
    at_joint = np.array([elbow_arm.tip_position(qq) for qq in q])
    assert np.abs(at_joint[:, :2] - hand).max() > 0.5 * L2
    elbow, _ = textbook(q)
    np.testing.assert_allclose(at_joint[:, :2], elbow, atol=1e-12)


def test_arm_plot_draws_textbook_poses_and_the_hand_path(swing, tmp_path):
    arm, sol = swing
    ds = arm.to_xarray(sol)
    q = np.asarray(ds["position"].values)
    elbow, hand = textbook(q)
    np.testing.assert_allclose(ds["tip"].values[:, :2], hand, atol=1e-12)
    assert ds["tip"].attrs["units"] == "m"

    fig, (ax,) = arm.plot(sol, frames=5)
    lines = ax.get_lines()
    poses, path = lines[:-1], lines[-1]
    assert len(poses) == 5 and path.get_label() == "tool point path"
    picks = [0, 5, 10, 15, 20]  # 5 poses spread over 21 saved times
    assert [ln.get_label() for ln in poses] == [f"t = {sol.t[k]:.4g}" for k in picks]
    for ln, k in zip(poses, picks):
        xy = ln.get_xydata()
        np.testing.assert_allclose(xy, np.vstack([[0.0, 0.0], elbow[k], hand[k]]), atol=1e-12)  # base = joint 0
    np.testing.assert_allclose(path.get_xydata(), hand, atol=1e-12)
    assert [ln.get_alpha() for ln in poses] == sorted(ln.get_alpha() for ln in poses)  # later is darker
    assert ax.get_xlabel() == "x (m)" and ax.get_ylabel() == "y (m)" and ax.get_aspect() == 1.0
    assert fig.get_suptitle().startswith("SerialArm(2 joints RR") and fig.get_suptitle().endswith("t = 0 to 2 s")
    png_pixels(fig, tmp_path)
    # the Dataset draws the same picture
    _, (ax2,) = arm.plot(ds, frames=5)
    np.testing.assert_allclose(ax2.get_lines()[2].get_xydata(), poses[2].get_xydata())


def test_arm_plot_in_3d_and_on_a_side_plane():
    # a spatial arm: a base yaw about z, then a shoulder pitch about y, 0.5 up; tool 0.8 along the last x
    arm = phys.SerialArm(
        ["revolute", "revolute"],
        axes=[[0, 0, 1], [0, 1, 0]],
        origins=[[0, 0, 0.1], [0, 0, 0.4]],
        masses=[1.0, 1.0],
        coms=[[0, 0, 0.25], [0.4, 0, 0]],
        inertias=np.tile(np.eye(3) * 0.01, (2, 1, 1)),
        tip_point=(0.8, 0.0, 0.0),
    )
    q = np.array([0.3, -0.6])  # yaw 0.3, pitch -0.6 (tool raised: rotation about +y by -0.6 lifts +x)
    tip = np.asarray(arm.tip_position(q))
    expected = np.array([0.8 * np.cos(0.6) * np.cos(0.3), 0.8 * np.cos(0.6) * np.sin(0.3), 0.5 + 0.8 * np.sin(0.6)])  # joint 1 at 0.1 + 0.4
    np.testing.assert_allclose(tip, expected, atol=1e-12)
    sol = SimpleNamespace(u=np.tile(np.r_[q, 0.0, 0.0], (3, 1)), t=np.array([0.0, 1.0, 2.0]))
    fig, (ax,) = arm.plot(sol, frames=1, projection="3d")
    assert ax.name == "3d" and ax.get_zlabel() == "z (m)"
    xs, ys, zs = ax.get_lines()[0].get_data_3d()
    np.testing.assert_allclose(zs, [0.0, 0.1, 0.5, expected[2]], atol=1e-12)
    _, (side,) = arm.plot(sol, frames=1, projection="xz")
    np.testing.assert_allclose(side.get_lines()[0].get_ydata(), [0.0, 0.1, 0.5, expected[2]], atol=1e-12)
    assert side.get_ylabel() == "z (m)"


def test_arm_plot_bad_arguments(swing):
    arm, sol = swing
    with pytest.raises(InputError, match="^frames"):
        arm.plot(sol, frames=0)
    with pytest.raises(InputError, match="^frames"):
        arm.plot(sol, frames=22)  # more poses than saved times
    with pytest.raises(InputError, match="^projection"):
        arm.plot(sol, projection="top")
    with pytest.raises(InputError, match="^ax"):
        arm.plot(sol, projection="3d", ax=plt.subplots()[1])
    with pytest.raises(InputError, match="^sol"):
        arm.plot(SimpleNamespace(u=np.zeros((5, 3)), t=np.arange(5.0)))
    with pytest.raises(InputError, match="^tip_point"):
        phys.SerialArm.planar(lengths=[1.0], masses=[1.0], tip_point=(1.0, 0.0))
    with pytest.raises(InputError, match="^tip"):
        plot_arm_motion(np.zeros((4, 2, 3)), np.zeros((3, 3)), np.arange(4.0))
