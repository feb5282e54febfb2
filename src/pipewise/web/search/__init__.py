"""The search box on every page (Ctrl/Cmd-K or /) and its results page."""
