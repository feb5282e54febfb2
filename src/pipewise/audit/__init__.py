"""The audit trail: an append-only log of who did what, from where (``service.log``)."""
