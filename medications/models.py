"""Models of the medications domain arrive with its issue."""
