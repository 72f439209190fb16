"""Background work in every service process: publish notifications and webhook delivery."""
