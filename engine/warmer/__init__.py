"""Keeping pinned contexts warm in the background."""
