"""Pages of the pipeline, one module per area."""
