"""Automation pages (``templates/automation/``): the workflow list, the builder and a workflow's page."""
