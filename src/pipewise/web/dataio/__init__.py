"""Import and export pages for record lists."""
