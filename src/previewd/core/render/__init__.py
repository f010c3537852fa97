"""Manifest rendering: pure functions from config and PR facts to deterministic YAML bytes."""
