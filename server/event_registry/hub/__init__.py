"""Live changes: from cache changes to the events subscriptions deliver."""
