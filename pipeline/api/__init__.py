"""REST API of the pipeline app, one module per area (registered in ``salesorg.api_urls``)."""
