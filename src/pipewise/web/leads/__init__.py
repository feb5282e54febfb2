"""The lead desk (``templates/leads/``): the work queue, the import wizard, the duplicate
review, scoring and routing; and converting a lead from its page."""
