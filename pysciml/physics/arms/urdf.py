"""URDF files to serial-chain data, through ``yourdfpy`` (the ``robots`` extra); no XML is parsed here.

:func:`read_serial_chain` walks the kinematic tree from its root link, welds fixed joints (their
child links' inertias join the moving body before them) and returns the constructor arguments of
:class:`~pysciml.physics.arms.chain.SerialArm`.  What is not a serial chain gets an error that
names the joint: a closed loop, a branching into two movable joints, a mimic joint on the chain,
a joint kind other than revolute, continuous, prismatic and fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InputError

__all__ = ["read_serial_chain"]

_MOVABLE = ("revolute", "continuous", "prismatic")
_KNOWN = (*_MOVABLE, "fixed")


class _Body:
    """Mass, first moment and inertia about the body origin, summed over welded links (body axes)."""

    def __init__(self):
        self.mass, self.moment, self.inertia = 0.0, np.zeros(3), np.zeros((3, 3))

    def add(self, inertial, pose: np.ndarray) -> None:
        if inertial is None or not inertial.mass:
            return
        m = float(inertial.mass)
        frame = pose @ (np.eye(4) if inertial.origin is None else np.asarray(inertial.origin, dtype=float))
        rot, c = frame[:3, :3], frame[:3, 3]
        i_com = rot @ np.asarray(inertial.inertia if inertial.inertia is not None else np.zeros((3, 3)), float) @ rot.T
        self.mass += m
        self.moment += m * c
        self.inertia += i_com + m * (c @ c * np.eye(3) - np.outer(c, c))

    def about_com(self) -> tuple[np.ndarray, np.ndarray]:
        c = self.moment / self.mass
        return c, self.inertia - self.mass * (c @ c * np.eye(3) - np.outer(c, c))


def _load(path):
    if not Path(path).is_file():
        raise InputError(f"no URDF file at {str(path)!r}.", argument="path")
    try:
        import yourdfpy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("SerialArm.from_urdf needs yourdfpy: pip install 'pysciml[robots]'.") from exc
    try:
        return yourdfpy.URDF.load(
            str(path),
            build_scene_graph=False,
            load_meshes=False,
            build_collision_scene_graph=False,
            load_collision_meshes=False,
        ).robot
    except Exception as exc:  # yourdfpy raises several kinds for malformed files
        raise InputError(f"yourdfpy could not read {str(path)!r}: {exc}", argument="path") from exc


def _number(value, default: float) -> float:
    return default if value is None else float(value)


def read_serial_chain(path, *, tip: str | None = None) -> dict[str, Any]:
    """The :class:`SerialArm` constructor arguments of the serial chain in a URDF file (see the module)."""
    robot = _load(path)
    joints = list(robot.joints)
    links = {link.name: link for link in robot.links}
    for j in joints:
        if j.type not in _KNOWN:
            raise InputError(
                f"joint {j.name!r} has type {j.type!r}; SerialArm takes revolute, continuous, "
                "prismatic and fixed joints.",
                argument="path",
            )
    parent_joint: dict[str, Any] = {}
    for j in joints:
        if j.child in parent_joint:
            raise InputError(
                f"joint {j.name!r} makes link {j.child!r} the child of a second joint (after "
                f"{parent_joint[j.child].name!r}): a closed loop, not a serial chain.",
                argument="path",
            )
        parent_joint[j.child] = j
    roots = [name for name in links if name not in parent_joint]
    if len(roots) != 1:
        raise InputError(
            f"the links form {len(roots)} trees (roots {roots}); a serial chain has one root.", argument="path"
        )
    children: dict[str, list] = {name: [] for name in links}
    for j in joints:
        children.setdefault(j.parent, []).append(j)

    def moves(link: str) -> bool:
        return any(j.type != "fixed" or moves(j.child) for j in children.get(link, []))

    if tip is not None:
        if tip not in links:
            raise InputError(f"no link named {tip!r}; links: {sorted(links)}.", argument="tip")
        path_joints, link = [], tip
        while link in parent_joint:
            path_joints.append(parent_joint[link])
            link = parent_joint[link].parent
        path_joints.reverse()
    else:
        path_joints, link = [], roots[0]
        while True:
            branches = [j for j in children.get(link, []) if j.type != "fixed" or moves(j.child)]
            if len(branches) > 1:
                names = ", ".join(repr(j.name) for j in branches)
                raise InputError(
                    f"link {link!r} branches into joints {names} that each lead to movable joints: "
                    "a tree, not a serial chain; pass tip= to pick the chain's last link.",
                    argument="path",
                )
            if not branches:
                break
            path_joints.append(branches[0])
            link = branches[0].child
    on_path = {j.name for j in path_joints if j.type != "fixed"}
    below_tip = tip

    def fold(link: str, pose: np.ndarray, body: _Body, beyond: bool):
        """Add ``link`` and everything welded to it into ``body``; return the next chain joint."""
        body.add(links[link].inertial, pose)
        beyond = beyond or link == below_tip
        nxt = None
        for j in children.get(link, []):
            origin = np.eye(4) if j.origin is None else np.asarray(j.origin, dtype=float)
            if j.name in on_path and not beyond:
                nxt = (j, pose @ origin)
                continue
            if j.type != "fixed" and not beyond:
                raise InputError(
                    f"joint {j.name!r} leaves the chain ending at link {tip!r}: a tree, not a serial "
                    "chain; pick another tip= or remove the side branch.",
                    argument="path",
                )
            nxt = fold(j.child, pose @ origin, body, beyond) or nxt
        return nxt

    records = []
    nxt = fold(roots[0], np.eye(4), _Body(), False)
    while nxt is not None:
        j, pose = nxt
        if j.mimic is not None:
            raise InputError(
                f"joint {j.name!r} mimics joint {j.mimic.joint!r}; SerialArm has no coupled joints: "
                "pass tip= to end the chain before it.",
                argument="path",
            )
        body = _Body()
        nxt = fold(j.child, np.eye(4), body, False)
        if body.mass <= 0:
            raise InputError(
                f"the body moved by joint {j.name!r} has no mass (link {j.child!r} and the links "
                "welded to it): give it an <inertial>.",
                argument="path",
            )
        records.append((j, pose, body))
    if not records:
        raise InputError("the URDF holds no revolute, continuous or prismatic joint.", argument="path")
    lower, upper, damping, friction = [], [], [], []
    for j, _, _ in records:
        limit = j.limit if j.type != "continuous" else None
        lower.append(-np.inf if limit is None else _number(limit.lower, -np.inf))
        upper.append(np.inf if limit is None else _number(limit.upper, np.inf))
        damping.append(_number(getattr(j.dynamics, "damping", None), 0.0))
        friction.append(_number(getattr(j.dynamics, "friction", None), 0.0))
    coms, inertias = zip(*(body.about_com() for _, _, body in records))
    return {
        "joints": [j.type for j, _, _ in records],
        "axes": np.array([np.asarray(j.axis if j.axis is not None else (1.0, 0, 0), float) for j, _, _ in records]),
        "origins": np.array([pose[:3, 3] for _, pose, _ in records]),
        "rotations": np.array([pose[:3, :3] for _, pose, _ in records]),
        "masses": np.array([body.mass for _, _, body in records]),
        "coms": np.array(coms),
        "inertias": 0.5 * (np.array(inertias) + np.transpose(np.array(inertias), (0, 2, 1))),
        "lower": np.array(lower),
        "upper": np.array(upper),
        "damping": np.array(damping),
        "friction": np.array(friction),
        "names": [j.name for j, _, _ in records],
    }
