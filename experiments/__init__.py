"""Runnable jobs: each wires a configs/*.py file to r1jax library calls."""
