"""Input/output: CF metadata for outputs and atomic writes (nothing half-written under the user's name)."""
