"""The generic record pages (``templates/records/``): list, record, create and edit for every
record type, what each type shows (``views``), the related records and saved views."""
