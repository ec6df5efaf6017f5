"""Alembic migrations of the orchestrade database (run by `open_store`)."""
