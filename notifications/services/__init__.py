"""Notification services: add outbox rows (outbox.py), send them (deliver.py), channels (channels.py)."""
