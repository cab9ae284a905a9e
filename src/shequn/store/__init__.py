"""The system of record: SQLAlchemy Core tables over SQLite or PostgreSQL."""
