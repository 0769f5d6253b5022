"""Models of the transport domain arrive with its issue."""
