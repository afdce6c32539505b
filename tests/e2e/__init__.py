"""End-to-end tests: the registry as real processes next to other real programs."""
