"""The week calendar and the calendar feed."""
