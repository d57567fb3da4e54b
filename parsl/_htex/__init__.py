"""HighThroughputExecutor machinery: protocol, interchange, manager, worker (private)."""
