"""Quote pages: the line items of a deal, the quote builder, the approval queue, company settings."""
