"""Mail pages (``templates/mail/``): my mailbox, the local outbox, the suppression list."""
