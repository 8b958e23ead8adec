"""Forms of the pipeline pages, one module per area."""
