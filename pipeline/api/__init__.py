"""REST API of the pipeline app, one module per area."""
