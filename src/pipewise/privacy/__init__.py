"""Data-subject rights: the consent ledger, the export of everything held about a person,
retention rules that delete what is kept too long, and erasure."""
