"""Platform-neutral rules. Nothing here imports a chat platform's SDK."""
