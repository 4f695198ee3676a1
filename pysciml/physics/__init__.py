"""Differentiable mechanics: N-body gravitation (more to come), as ordinary ``ps.ODEModel`` s."""
