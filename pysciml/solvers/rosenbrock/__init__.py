"""Rosenbrock-Wanner methods: the tableau container and one module per method (coefficients + class)."""
