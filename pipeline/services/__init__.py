"""Workflows of the pipeline app, one module per area.

Each module holds keyword-only ``@transaction.atomic`` functions named
``<entity>_<action>``; pages, the API and jobs call the same functions, so a
rule is enforced in one place.
"""
