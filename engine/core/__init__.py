"""Small units every other layer uses: paths, settings, the cache key, the entry format, locks,
atomic writes, logs. Imports nothing of kubewarm but the hit path."""
