"""Import and export of records: the import profiles of accounts, contacts and deals, and
the adapters that serve imports and exports (the engine itself is the record kernel's)."""
