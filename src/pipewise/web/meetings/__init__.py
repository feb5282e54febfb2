"""Meeting pages: my meetings and availability, the booking page editor, and the public
booking and manage pages (no login)."""
