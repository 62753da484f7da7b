"""Use cases of the credential cache: obtaining a credential (the shim's slow path and
refreshes), running the plugin, administering entries."""
