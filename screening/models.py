"""Models of the screening domain arrive with its issue."""
