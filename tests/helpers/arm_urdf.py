"""URDFs for the SerialArm tests: tiny texts (links with inertia, joints of any type, loops and trees)
and the robots folder of the PyPI package example-robot-data (Panda, UR5)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest


def robots_folder() -> Path:
    """example-robot-data's ``robots`` folder; the calling test skips where it is not installed."""
    try:
        dist = importlib.metadata.distribution("example-robot-data")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("example-robot-data (the bench extra, ~430 MB of robot descriptions) not installed")
    root = Path(str(dist.locate_file("cmeel.prefix/share/example-robot-data/robots")))
    if not root.is_dir():
        pytest.skip(f"example-robot-data installed without its robots folder at {root}")
    return root


def _link(name: str) -> str:
    return (f'<link name="{name}"><inertial><origin xyz="0.1 0 0"/><mass value="1.0"/>'
            '<inertia ixx="0.01" ixy="0" ixz="0" iyy="0.02" iyz="0" izz="0.02"/></inertial></link>')


def _joint(name: str, kind: str, parent: str, child: str) -> str:
    limit = '<limit lower="-1" upper="1" effort="10" velocity="1"/>' if kind in ("revolute", "prismatic") else ""
    return (f'<joint name="{name}" type="{kind}"><parent link="{parent}"/><child link="{child}"/>'
            f'<origin xyz="0.2 0 0"/><axis xyz="0 0 1"/>{limit}</joint>')


def write_urdf(tmp: Path, links: list[str], joints: list[tuple[str, str, str, str]], name: str = "arm.urdf") -> Path:
    """Write a URDF with ``links`` (each 1 kg) and ``joints`` ``(name, type, parent, child)``; return its path."""
    text = ('<?xml version="1.0"?><robot name="r">' + "".join(map(_link, links))
            + "".join(_joint(*j) for j in joints) + "</robot>")
    path = Path(tmp) / name
    path.write_text(text)
    return path
