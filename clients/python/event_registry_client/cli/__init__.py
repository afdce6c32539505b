"""``kreg``: the registry at a terminal, kubectl-style (see :mod:`.main`)."""
