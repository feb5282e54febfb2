"""Demo data: a believable sales organisation with a year of history, loaded through
the real services so every record has its field history and events."""
