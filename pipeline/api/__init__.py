"""REST API of the pipeline, one module per area."""
