"""The registry's cache: immutable snapshots of normalized objects, with indexes."""
