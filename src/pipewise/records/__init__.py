"""The record kernel: the registry of record types and the one generic path every
record takes (repository, service, filters, history, timeline, custom fields). It names
no domain: domains register their record types with it."""
