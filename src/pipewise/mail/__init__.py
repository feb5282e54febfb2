"""The one mail path. Every outgoing e-mail — sequence steps, workflow e-mails and
notices, a rep's send from the Today queue, sender confirmations — is written to the
ledger by ``compose.queue`` and sent by ``delivery``; both apply the same rules:
suppression, consent, the mailbox's daily cap and a verified From address.

Layout: ``models`` (mailboxes, sender addresses, ledger, suppression), ``compose``
(ledger rows), ``delivery`` + ``transport`` (SMTP or .eml, exactly once), ``suppression``,
``consent`` (opens, clicks, unsubscribes), ``caps``, ``mailboxes`` (settings, verified
senders), ``secrets`` (passwords at rest), ``tracking`` (signed links), ``hooks`` (how
sequences hear about their messages without this package knowing sequences)."""
