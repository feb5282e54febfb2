from tests.events.support import clean_bus, log_table  # noqa: F401 - fixtures
