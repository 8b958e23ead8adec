"""Workflows of the pipeline app, one module per area (activities, targets, deals, ...)."""
