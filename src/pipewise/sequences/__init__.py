"""Sequences: multi-step cadences that re-check live sales signals before every touch."""
