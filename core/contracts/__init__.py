"""What the edge and the orchestrator share through Temporal and the API."""
