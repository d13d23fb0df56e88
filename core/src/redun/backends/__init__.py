"""State stores: where executions, jobs, call nodes and values are recorded."""
