"""The notification inbox every part of Pipewise writes to (``service.notify``)."""
