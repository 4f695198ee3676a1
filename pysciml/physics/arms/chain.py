"""Serial robot arms: a :class:`SerialArm` holds the chain and gives its dynamics and a ``ps.ODEModel``.

Joint ``i`` joins body ``i - 1`` (body ``-1``: the fixed base) to body ``i``; it is revolute
(angle in rad about ``axes[i]``) or prismatic (displacement in length units along ``axes[i]``).
The equations of motion are

    ``M(q) qdd + b(q, v) = tau + tau_passive(v) + tau_limit(q, v)``

with ``M`` the mass matrix (:meth:`SerialArm.mass_matrix`, CRBA), ``b`` the bias forces
(Coriolis, centrifugal and gravity: :meth:`SerialArm.bias`, RNEA with zero acceleration) and the
passive joint forces ``tau_passive = -damping v - friction tanh(v / friction_velocity)`` (viscous
damping and a smoothed Coulomb friction; URDF's ``<dynamics damping friction>``).
:meth:`SerialArm.forward_dynamics` solves for ``qdd`` with the articulated-body algorithm.

Joint limits (the policy): initial states outside ``[lower, upper]`` are refused by
:meth:`SerialArm.state` (or clipped with ``on_limit="clip"``); during a simulation the limits are
ignored unless :meth:`SerialArm.model` gets ``limit_stiffness``, which adds a one-sided spring
(and ``limit_damping`` dashpot) pushing a joint back inside its range, a smooth penalty that
keeps gradients defined.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import InputError
from ...model import ODEModel
from ...plotting.arms import plot_arm_motion
from ..inputs import of_shape, per_item
from .dynamics import Chain, aba, body_poses, crba, rnea
from .urdf import read_serial_chain

__all__ = ["SerialArm"]

_KINDS = {"revolute": "revolute", "continuous": "revolute", "prismatic": "prismatic"}


class SerialArm:
    """A serial chain of rigid bodies joined by revolute and prismatic joints, with differentiable dynamics.

    Args:
        joints: one kind per joint: ``"revolute"`` (or ``"continuous"``) or ``"prismatic"``.
        axes: ``(n, 3)`` joint axes in the joint frames (normalised here).
        origins: ``(n, 3)`` position of joint ``i``'s frame in body ``i - 1``'s frame (length).
        masses: ``(n,)`` body masses (positive).
        coms: ``(n, 3)`` centres of mass in the body frames (length).
        inertias: ``(n, 3, 3)`` rotational inertias about the centres of mass, body axes
            (mass length^2; symmetric positive semi-definite).
        rotations: ``(n, 3, 3)`` orientation of joint ``i``'s frame in body ``i - 1``'s frame at zero
            joint position (``x_parent = R x_joint + origin``; default identity).
        lower, upper: joint limits (rad or length; default unbounded); see the module's limit policy.
        damping: viscous joint damping (force or torque per unit joint speed), one or one per joint.
        friction: Coulomb joint friction (force or torque), one or one per joint.
        friction_velocity: joint speed over which Coulomb friction rises to its value (``tanh``
            smoothing, keeps the dynamics differentiable).
        armature: rotor inertia added on each joint axis (default 0).
        gravity: ``(3,)`` gravitational acceleration in base coordinates.
        names: joint names (default ``joint0``, ...).
        units: ``{"length": ..., "time": ..., "mass": ...}`` written into outputs.
        tip_point: ``(3,)`` the tool point in the last body's frame (length; default: that body's
            origin, for :meth:`planar` arms the far end of the last rod); :meth:`tip_position`,
            :meth:`to_xarray` and :meth:`plot` follow it.

    >>> arm = SerialArm.planar(lengths=[1.0, 0.8], masses=[2.0, 1.0])
    >>> arm.forward_dynamics(q, v, tau)  # jax: jit, vmap, grad
    """

    def __init__(
        self,
        joints: Sequence[str],
        axes,
        origins,
        masses,
        coms,
        inertias,
        *,
        rotations=None,
        lower: Any = -np.inf,
        upper: Any = np.inf,
        damping: Any = 0.0,
        friction: Any = 0.0,
        friction_velocity: float = 1e-2,
        armature: Any = 0.0,
        gravity: Sequence[float] = (0.0, 0.0, -9.81),
        names: Sequence[str] | None = None,
        units: dict[str, str] | None = None,
        tip_point=None,
    ):
        if isinstance(joints, str) or not isinstance(joints, Sequence) or len(joints) < 1:
            raise InputError(
                f"must be a list of joint kinds ('revolute', 'prismatic'), got {joints!r}.", argument="joints"
            )
        for i, kind in enumerate(joints):
            if kind not in _KINDS:
                raise InputError(
                    f"joint {i} has kind {kind!r}; use 'revolute', 'continuous' or 'prismatic'.", argument="joints"
                )
        self.kinds = tuple(_KINDS[k] for k in joints)
        n = self.n = len(self.kinds)
        ax = of_shape(axes, (n, 3), "axes")
        norm = np.linalg.norm(ax, axis=1)
        if np.any(norm == 0):
            raise InputError(f"axis of joint {int(np.argmax(norm == 0))} is zero; give a direction.", argument="axes")
        self.axes = ax / norm[:, None]
        self.origins = of_shape(origins, (n, 3), "origins")
        if rotations is None:
            self.rotations = np.tile(np.eye(3), (n, 1, 1))
        else:
            self.rotations = of_shape(rotations, (n, 3, 3), "rotations")
            err = np.abs(np.einsum("nij,nkj->nik", self.rotations, self.rotations) - np.eye(3)).max(axis=(1, 2))
            if np.any(err > 1e-9) or np.any(np.linalg.det(self.rotations) < 0):
                raise InputError(
                    f"rotation of joint {int(np.argmax(err))} is not a proper rotation matrix.", argument="rotations"
                )
        self.masses = per_item(masses, n, "masses", sign="positive", item="joint")
        self.coms = of_shape(coms, (n, 3), "coms")
        inertia = of_shape(inertias, (n, 3, 3), "inertias")
        for i in range(n):
            scale = max(np.abs(inertia[i]).max(), 1e-300)
            if np.abs(inertia[i] - inertia[i].T).max() > 1e-9 * scale:
                raise InputError(f"inertias[{i}] is not symmetric.", argument="inertias")
            if np.linalg.eigvalsh(inertia[i]).min() < -1e-12 * scale:
                raise InputError(f"inertias[{i}] is not positive semi-definite.", argument="inertias")
        self.inertias = inertia
        self.gyration = inertia / self.masses[:, None, None]
        self.lower = per_item(lower, n, "lower", sign="any", item="joint")
        self.upper = per_item(upper, n, "upper", sign="any", item="joint")
        if np.any(self.lower >= self.upper):
            i = int(np.argmax(self.lower >= self.upper))
            raise InputError(
                f"joint {i}: lower = {self.lower[i]} is not below upper = {self.upper[i]}.", argument="lower"
            )
        self.damping = per_item(damping, n, "damping", sign=">= 0", item="joint")
        self.friction = per_item(friction, n, "friction", sign=">= 0", item="joint")
        self.armature = per_item(armature, n, "armature", sign=">= 0", item="joint")
        try:
            self.friction_velocity = float(friction_velocity)
        except (TypeError, ValueError):
            raise InputError(
                f"must be a positive number, got {friction_velocity!r}.", argument="friction_velocity"
            ) from None
        if not (np.isfinite(self.friction_velocity) and self.friction_velocity > 0):
            raise InputError(f"must be positive and finite, got {friction_velocity!r}.", argument="friction_velocity")
        self.gravity = of_shape(gravity, (3,), "gravity")
        self.names = tuple(f"joint{i}" for i in range(n)) if names is None else tuple(map(str, names))
        if len(self.names) != n or len(set(self.names)) != n:
            raise InputError(f"must be {n} distinct joint names, got {names!r}.", argument="names")
        self.units = {"length": "m", "time": "s", "mass": "kg", **(units or {})}
        self.tip_point = np.zeros(3) if tip_point is None else of_shape(tip_point, (3,), "tip_point")
        self.lengths: np.ndarray | None = None  # the rod lengths of a planar() arm

    # -- ready-made arms --------------------------------------------------------------------------
    @classmethod
    def planar(
        cls,
        lengths,
        masses,
        *,
        gravity: float = 9.81,
        damping: Any = 0.0,
        friction: Any = 0.0,
        **kwargs,
    ) -> SerialArm:
        """A planar arm of uniform thin rods in the x-y plane, revolute joints about z, gravity along -y.

        Joint ``i`` sits at the far end of rod ``i - 1`` (joint 0 at the base); rod ``i`` lies along its
        body's x axis with its centre of mass at the middle and inertia ``m l^2 / 12`` about it.  The tool
        point (:meth:`tip_position`) is the far end of the last rod.

        Args:
            lengths: rod lengths (positive; length units).
            masses: rod masses (positive), one or one per rod.
            gravity: ``g >= 0`` along -y.
            damping, friction, kwargs: as for the constructor.
        """
        try:
            raw = np.asarray(lengths, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise InputError(f"must be positive numbers, got {lengths!r}.", argument="lengths") from None
        if raw.size < 1:
            raise InputError("must hold at least one rod length.", argument="lengths")
        ell = per_item(raw, raw.size, "lengths", sign="positive", item="rod")
        n = ell.size
        mass = per_item(masses, n, "masses", sign="positive", item="joint")
        g = float(gravity)
        if not (np.isfinite(g) and g >= 0):
            raise InputError(f"must be >= 0 (its direction is -y), got {gravity!r}.", argument="gravity")
        origins = np.zeros((n, 3))
        origins[1:, 0] = ell[:-1]
        coms = np.zeros((n, 3))
        coms[:, 0] = ell / 2
        rod = mass * ell**2 / 12
        inertias = np.zeros((n, 3, 3))
        inertias[:, 1, 1] = inertias[:, 2, 2] = rod
        kwargs.setdefault("tip_point", (ell[-1], 0.0, 0.0))
        arm = cls(
            ["revolute"] * n,
            np.tile([0.0, 0.0, 1.0], (n, 1)),
            origins,
            mass,
            coms,
            inertias,
            gravity=(0.0, -g, 0.0),
            damping=damping,
            friction=friction,
            **kwargs,
        )
        arm.lengths = ell
        return arm

    @classmethod
    def from_urdf(
        cls, path, *, tip: str | None = None, gravity: Sequence[float] = (0.0, 0.0, -9.81), **kwargs
    ) -> SerialArm:
        """A serial arm read from a URDF file (parsed by ``yourdfpy``: the ``robots`` extra).

        Fixed joints are welded: their child links' inertias join the parent body.  ``tip`` names the
        link where the chain ends; everything beyond it (a gripper's fingers, say) is welded to it with
        its joints at zero.  A tree that branches into two movable joints (below ``tip``), a closed loop,
        a mimic joint or a joint kind other than revolute, continuous, prismatic and fixed raises
        :class:`pysciml.InputError` naming the joint.

        Args:
            path: the ``.urdf`` file.
            tip: the last link of the chain (default: the end of the only movable chain).
            gravity: ``(3,)`` gravitational acceleration in base coordinates.
            kwargs: overrides for the constructor (``damping``, ``friction``, ``armature`` ...).
        """
        data = read_serial_chain(path, tip=tip)
        return cls(**{**data, "gravity": gravity, **kwargs})

    # -- the numbers the algorithms see -----------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The model's parameter values: ``masses``, ``damping``, ``friction`` (per joint), ``gravity`` (3,)."""
        return {"masses": self.masses, "damping": self.damping, "friction": self.friction, "gravity": self.gravity}

    def chain(self, params: Mapping[str, Any] | None = None) -> Chain:
        """The :class:`~pysciml.physics.arms.dynamics.Chain` of numbers, ``params`` (``masses``, ``gravity``,
        ``coms``) replacing the arm's own (jax arrays welcome: gradients reach them).  Changing a mass
        keeps a body's shape: its rotational inertia scales with it."""
        p = dict(params or {})
        unknown = set(p) - {"masses", "gravity", "coms", "damping", "friction"}
        if unknown:
            raise InputError(
                f"unknown parameter(s) {sorted(unknown)}; known: masses, coms, gravity, damping, friction.",
                argument="params",
            )
        return Chain(
            kinds=self.kinds,
            axis=jnp.asarray(self.axes),
            tree_rotation=jnp.asarray(self.rotations),
            tree_offset=jnp.asarray(self.origins),
            mass=jnp.asarray(p.get("masses", self.masses)),
            com=jnp.asarray(p.get("coms", self.coms)),
            gyration=jnp.asarray(self.gyration),
            armature=jnp.asarray(self.armature),
            gravity=jnp.asarray(p.get("gravity", self.gravity)),
        )

    # -- dynamics (jax) ---------------------------------------------------------------------------
    def mass_matrix(self, q, *, params: Mapping[str, Any] | None = None):
        """The ``(n, n)`` joint-space mass matrix ``M(q)`` (composite rigid-body algorithm)."""
        return crba(self.chain(params), q)

    def bias(self, q, v, *, params: Mapping[str, Any] | None = None):
        """The ``(n,)`` bias forces ``C(q, v) v + g(q)`` (RNEA with zero acceleration; no friction)."""
        return rnea(self.chain(params), q, v, jnp.zeros(self.n))

    def passive_torque(self, v, *, params: Mapping[str, Any] | None = None):
        """Joint damping and smoothed Coulomb friction ``-damping v - friction tanh(v / friction_velocity)``."""
        p = {**self.params(), **(params or {})}
        return -jnp.asarray(p["damping"]) * v - jnp.asarray(p["friction"]) * jnp.tanh(v / self.friction_velocity)

    def inverse_dynamics(self, q, v, a, *, params: Mapping[str, Any] | None = None):
        """The joint forces that give accelerations ``a``: ``M a + b - tau_passive`` (RNEA)."""
        return rnea(self.chain(params), q, v, a) - self.passive_torque(v, params=params)

    def forward_dynamics(self, q, v, tau, *, params: Mapping[str, Any] | None = None):
        """Joint accelerations under joint forces ``tau``: ``M^-1 (tau + tau_passive - b)`` (ABA, O(n))."""
        return aba(self.chain(params), q, v, tau + self.passive_torque(v, params=params))

    def forward_dynamics_derivatives(self, q, v, tau, *, params: Mapping[str, Any] | None = None):
        """``(d qdd / d q, d qdd / d v, d qdd / d tau)`` of :meth:`forward_dynamics`, each ``(n, n)``.

        By the identity pinocchio's ``computeABADerivatives`` uses: with ``ID = inverse_dynamics``,
        ``d qdd / d x = -M^-1 d ID / d x`` at ``a = qdd`` and ``d qdd / d tau = M^-1``; cheaper than
        ``jax.jacfwd`` of the articulated-body recursion (2n tangents of RNEA instead of 3n of ABA).
        """
        qdd = self.forward_dynamics(q, v, tau, params=params)
        d_q, d_v = jax.jacfwd(lambda qq, vv: self.inverse_dynamics(qq, vv, qdd, params=params), argnums=(0, 1))(q, v)
        m_inv = jnp.linalg.inv(self.mass_matrix(q, params=params))
        m_inv = 0.5 * (m_inv + m_inv.T)
        return -m_inv @ d_q, -m_inv @ d_v, m_inv

    def limit_torque(self, q, v, stiffness: float, damping: float = 0.0):
        """The one-sided spring-dashpot pushing joints back inside ``[lower, upper]`` (zero inside)."""
        above = jnp.maximum(q - self.upper, 0.0)
        below = jnp.maximum(self.lower - q, 0.0)
        outside = (above > 0) | (below > 0)
        return stiffness * (below - above) - damping * jnp.where(outside, v, 0.0)

    def kinematics(self, q, *, params: Mapping[str, Any] | None = None):
        """Body rotations ``(n, 3, 3)`` and origins ``(n, 3)`` in base coordinates at ``q``."""
        return body_poses(self.chain(params), q)

    def tip_position(self, q, *, params: Mapping[str, Any] | None = None):
        """The tool point (``tip_point`` in the last body) in base coordinates, ``(3,)`` at one ``q`` (jax)."""
        rots, origins = self.kinematics(q, params=params)
        return origins[-1] + rots[-1] @ jnp.asarray(self.tip_point)

    def energy(self, q, v, *, params: Mapping[str, Any] | None = None):
        """Kinetic plus gravitational potential energy at one state (jax)."""
        chain = self.chain(params)
        rots, origins = body_poses(chain, q)
        coms = origins + jnp.einsum("nij,nj->ni", rots, chain.com)
        return 0.5 * v @ crba(chain, q) @ v - jnp.sum(chain.mass * (coms @ chain.gravity))

    # -- simulation -------------------------------------------------------------------------------
    def state(self, q=None, v=None, *, on_limit: str = "raise") -> np.ndarray:
        """The flat state ``(q, v)``; ``q`` defaults to zero (clipped into the limits), ``v`` to zero.

        ``on_limit``: ``"raise"`` (an ``InputError`` naming the joint) or ``"clip"`` for a ``q`` outside
        ``[lower, upper]``.
        """
        if on_limit not in ("raise", "clip"):
            raise InputError(f"must be 'raise' or 'clip', got {on_limit!r}.", argument="on_limit")
        if q is None:
            qa, on_limit = np.zeros(self.n), "clip"
        else:
            qa = of_shape(q, (self.n,), "q")
        va = np.zeros(self.n) if v is None else of_shape(v, (self.n,), "v")
        outside = (qa < self.lower) | (qa > self.upper)
        if outside.any() and on_limit == "raise":
            i = int(np.argmax(outside))
            raise InputError(
                f"joint {self.names[i]!r} starts at {qa[i]!r}, outside its limits "
                f"[{self.lower[i]}, {self.upper[i]}]; move it inside or pass on_limit='clip'.",
                argument="q",
            )
        return np.concatenate([np.clip(qa, self.lower, self.upper), va])

    def unpack(self, u) -> tuple[Any, Any]:
        """Joint positions and velocities ``(..., n)`` each from flat states ``(..., 2 n)``."""
        u = u if hasattr(u, "reshape") else np.asarray(u, dtype=float)
        return u[..., : self.n], u[..., self.n :]

    def model(
        self,
        torque: Callable | None = None,
        *,
        torque_params: Mapping[str, Any] | None = None,
        limit_stiffness: float | None = None,
        limit_damping: float = 0.0,
        name: str = "arm",
    ) -> ODEModel:
        """The ``ps.ODEModel`` ``dq/dt = v, dv/dt = forward_dynamics(q, v, torque)``; states ``q``, ``v``.

        Args:
            torque: ``torque(t, q, v)`` (or ``torque(t, q, v, p)`` with ``torque_params``) returning the
                ``(n,)`` joint forces; ``None``: a passive arm.
            torque_params: extra model parameters the controller reads from ``p`` (``p.gains`` ...):
                fittable and differentiable like the physical ones.
            limit_stiffness: when given, a one-sided spring (stiffness per rad or length, ``limit_damping``
                per speed) at the joint limits; otherwise limits are ignored during the simulation.
            name: the model name.
        """
        if torque is not None and not callable(torque):
            raise InputError(
                f"must be a callable torque(t, q, v) or None, got {type(torque).__name__}.", argument="torque"
            )
        extra = dict(torque_params or {})
        clash = set(extra) & set(self.params())
        if clash:
            raise InputError(
                f"names {sorted(clash)} are the arm's own parameters; rename them.", argument="torque_params"
            )
        if limit_stiffness is not None and not (np.isfinite(limit_stiffness) and limit_stiffness > 0):
            raise InputError(f"must be positive, got {limit_stiffness!r}.", argument="limit_stiffness")
        own = tuple(self.params())

        def arm(u, p, t, m):
            q, v = u["q"], u["v"]
            values = {k: p[k] for k in own}
            if torque is None:
                tau = jnp.zeros(self.n)
            elif extra:
                tau = jnp.asarray(torque(t, q, v, p), dtype=float).reshape(self.n)
            else:
                tau = jnp.asarray(torque(t, q, v), dtype=float).reshape(self.n)
            if limit_stiffness is not None:
                tau = tau + self.limit_torque(q, v, limit_stiffness, limit_damping)
            return {"q": v, "v": self.forward_dynamics(q, v, tau, params=values)}

        T = self.units["time"]
        return ODEModel(
            arm,
            states={"q": self.n, "v": self.n},
            params={**self.params(), **extra},
            name=name,
            time_units=T,
            state_units={"q": self._joint_units(), "v": f"{self._joint_units()}/{T}"},
        )

    def _joint_units(self) -> str:
        kinds = set(self.kinds)
        if kinds == {"revolute"}:
            return "rad"
        if kinds == {"prismatic"}:
            return self.units["length"]
        return f"rad or {self.units['length']}"

    def to_xarray(self, sol):
        """Joint positions, velocities, body origins, the tool point and energy as an ``xarray.Dataset``."""
        import xarray as xr

        u = np.asarray(sol.u, dtype=float)
        if u.ndim != 2 or u.shape[1] != 2 * self.n:
            raise InputError(
                f"holds states of size {u.shape[1:]}, not this arm's 2 n = {2 * self.n}: pass a "
                "solution of this arm's model().",
                argument="sol",
            )
        q, v = self.unpack(u)
        origins = np.asarray(jax.jit(jax.vmap(lambda qq: self.kinematics(qq)[1]))(q))
        tip = np.asarray(jax.jit(jax.vmap(self.tip_position))(q))
        energy = np.asarray(jax.jit(jax.vmap(self.energy))(q, v))
        L, T = self.units["length"], self.units["time"]
        joint_units = ["rad" if k == "revolute" else L for k in self.kinds]
        ds = xr.Dataset(
            {
                "position": (("time", "joint"), q, {"units": self._joint_units(), "long_name": "joint position"}),
                "velocity": (
                    ("time", "joint"),
                    v,
                    {"units": f"{self._joint_units()}/{T}", "long_name": "joint velocity"},
                ),
                "body_origin": (
                    ("time", "joint", "component"),
                    origins,
                    {"units": L, "long_name": "origin of the body each joint moves, base frame"},
                ),
                "tip": (
                    ("time", "component"),
                    tip,
                    {"units": L, "long_name": "tool point (tip_point of the last body), base frame"},
                ),
                "energy": (
                    ("time",),
                    energy,
                    {"units": f"{self.units['mass']} {L}^2/{T}^2", "long_name": "kinetic + gravitational energy"},
                ),
                "mass": (("joint",), self.masses, {"units": self.units["mass"]}),
            },
            coords={
                "time": np.asarray(sol.t, dtype=float),
                "joint": list(self.names),
                "component": ["x", "y", "z"],
                "joint_kind": (("joint",), list(self.kinds)),
                "joint_units": (("joint",), joint_units),
            },
        )
        ds["time"].attrs["units"] = T
        ds.attrs.update({"gravity": list(map(float, self.gravity)), "source": "pysciml.physics.SerialArm"})
        return ds

    def plot(self, sol, *, frames: int = 6, projection: str = "xy", title: str | None = None, ax=None):
        """Draw the arm's motion from a solution of :meth:`model` (matplotlib, the ``plot`` extra).

        Returns ``(fig, [ax])``: the arm as a line from the base through every joint to the tool point
        at ``frames`` times spread evenly over the saved ones (later poses darker), and the tool
        point's path over all saved times (see :func:`pysciml.plotting.arms.plot_arm_motion`).

        Args:
            sol: a ``ps.Solution`` of ``self.model()`` or the Dataset of :meth:`to_xarray`.
            frames: how many poses to draw (at least 1; at most the number of saved times).
            projection: ``"xy"``, ``"xz"``, ``"yz"`` or ``"3d"``.
            title: figure title (default: the arm and the time span).
            ax: an Axes to draw into (a 3-D one for ``"3d"``).
        """
        ds = sol if hasattr(sol, "data_vars") else self.to_xarray(sol)
        t = np.asarray(ds["time"].values, dtype=float)
        T = self.units["time"]
        return plot_arm_motion(
            np.asarray(ds["body_origin"].values, dtype=float),
            np.asarray(ds["tip"].values, dtype=float),
            t,
            frames=frames,
            projection=projection,
            length_units=self.units["length"],
            title=title if title is not None else f"{self!r}, t = {t[0]:.4g} to {t[-1]:.4g} {T}",
            ax=ax,
        )

    def __repr__(self) -> str:
        kinds = "".join("R" if k == "revolute" else "P" for k in self.kinds)
        return f"SerialArm({self.n} joints {kinds}, total mass {self.masses.sum():.4g} {self.units['mass']})"
