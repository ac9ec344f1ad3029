"""Sample image generators for `scripts/make_samples.py` (see its docstring)."""
