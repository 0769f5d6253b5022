"""Models of the observations domain arrive with its issue."""
