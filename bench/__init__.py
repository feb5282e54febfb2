"""Pipewise benchmarks: ``python -m bench`` (see ``--help``). Each figure is measured beside
the raw database work of the same size in the same run; results go to docs/benchmarks.md."""
