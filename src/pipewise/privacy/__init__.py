"""Data-subject rights: consent, export, retention and erasure."""
