"""Per-cell work of the jax engine: cell objectives, vmapped training and solving in memory-bounded batches."""
