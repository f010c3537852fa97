"""Pure core: models, policy, naming and rendering. No I/O, no clock, no environment."""
