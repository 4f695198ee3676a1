"""SDE solving on the jax engine (diffrax): terms, Brownian paths, many vmapped paths."""
