"""The browser component the service serves (the source lives in clients/js/)."""
