"""Sequence pages (``templates/sequences/``): the list and builder, steps, enrollments and a
rep's Today queue."""
