"""The API's typed request (`*In`) and response (`*Out`) bodies, one module per area."""
