"""Wiring: settings, authentication, the Starlette app and the ``serve`` runtime."""
