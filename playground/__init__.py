"""playground: feel how the SQLAlchemy asyncio ORM behaves around a commit."""

__version__ = "0.1.0"
