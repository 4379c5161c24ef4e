"""Alembic migrations of trygg's schema (run with `trygg db upgrade`)."""
