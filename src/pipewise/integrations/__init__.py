"""How Pipewise talks to other systems: webhook subscriptions out."""
