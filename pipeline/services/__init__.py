"""Workflows of the pipeline, one module per area (quotes, contracts, projects, ...)."""
