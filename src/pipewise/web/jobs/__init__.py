"""The progress pages of long work (``pipewise.jobs``)."""
