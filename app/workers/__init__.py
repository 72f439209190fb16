"""Background work in every service process: publish notices, webhooks and cache purges."""
