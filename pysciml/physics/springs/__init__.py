"""Mass-spring-damper networks: ropes, cloth and lattices as ``ps.ODEModel`` objects."""

from .network import SpringNetwork

__all__ = ["SpringNetwork"]
