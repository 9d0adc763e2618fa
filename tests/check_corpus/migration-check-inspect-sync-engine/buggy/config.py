"""Settings shared by the app and its maintenance scripts."""

import tempfile
from pathlib import Path

DATA_DIR = tempfile.TemporaryDirectory(prefix="crm-")
DATABASE_URL = f"sqlite+aiosqlite:///{Path(DATA_DIR.name) / 'crm.db'}"
