"""The durable store: SQLite and PostgreSQL through SQLAlchemy Core."""
