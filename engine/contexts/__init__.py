"""One model per kubeconfig context: its state for the CLI and the tray, pins, and what
refreshing it means."""
