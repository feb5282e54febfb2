"""Quotes, invoices and credit notes as documents: a model apart from the database
(``model``), the PDF in the recipient's language (``render``), the e-invoices (``ubl``,
``cii``) and the builders from the database (``builders``)."""
