"""Alembic revisions of the store's schema, oldest first; a released one never changes."""
