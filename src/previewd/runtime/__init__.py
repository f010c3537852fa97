"""Composition root: wires adapters to jobs, runs the worker loop and the HTTP server."""
