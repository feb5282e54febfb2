"""The holdout panel (``templates/holdouts/``) on a sequence's and a workflow's page."""
