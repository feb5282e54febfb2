"""Webhook subscriptions per the Standard Webhooks specification (docs/integrations.md)."""
