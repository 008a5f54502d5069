"""Catalog facade, Backend interface, SQL backend, model and rows (private modules)."""
