"""Jobs: one module per job; each runs core decisions through the ports."""
