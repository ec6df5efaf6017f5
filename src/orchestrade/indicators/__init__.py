"""indicators."""
