"""Settings, wiring (the composition root), logging and the app factory: the only place that
knows every part. Imported by entry points only."""
