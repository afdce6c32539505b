"""GraphQL over WebSocket with shared execution and bounded, coalescing per-client outboxes."""
