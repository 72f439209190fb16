"""Background work every service process runs: purging caches (more moving here, issue 8)."""
