"""Pages of the pipeline app, one module per area."""
