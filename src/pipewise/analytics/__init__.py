"""Reports: the numbers sales is measured by, read from the records, their stage history
and field history, with the acting user's visibility (docs/reports.md)."""
