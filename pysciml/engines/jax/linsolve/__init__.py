"""Linear-solve strategies of the jax engine (implementations of pysciml.linsolve objects)."""
