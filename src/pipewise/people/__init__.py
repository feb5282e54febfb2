"""Users, teams and API tokens as records: their services and schemas."""
