"""The operating system's side: the login item, one instance per user."""
