"""The observations app's pages, one module per topic: rounds (board, levels, observers,
downtime, security rounds, compliance), vitals, withdrawal."""
