"""Inbound HTTP: webhooks, API, health, metrics."""
