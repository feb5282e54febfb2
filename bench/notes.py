"""What the profiles said, written next to the figures in docs/benchmarks.md."""

NOTES: dict[str, list[str]] = {}
