"""One place for configuration: the app's database URL."""

import os
import tempfile
from pathlib import Path

DATA_DIR = tempfile.TemporaryDirectory(prefix="shop-")
DATABASE_URL = os.environ.get(
    "SHOP_DATABASE_URL", f"sqlite+aiosqlite:///{Path(DATA_DIR.name) / 'shop.db'}"
)
