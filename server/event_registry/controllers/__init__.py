"""Controllers: ordinary API clients that watch and patch, never touching storage directly."""
