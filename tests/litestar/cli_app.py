"""A minimal app for the ``litestar tokens`` tests: SQLite at $TOKENLIFE_TEST_DB."""

from __future__ import annotations

import os

from litestar import Litestar

from tokenlife import KeySet, TokenAuthority
from tokenlife_litestar import TokenLifeConfig, TokenLifePlugin
from tokenlife_sqlite import SQLiteStore

KEYS = KeySet.from_secret(b"litestar-cli-tests-secret-32-bytes!!")
authority = TokenAuthority(SQLiteStore(os.environ["TOKENLIFE_TEST_DB"]), keys=KEYS)
app = Litestar(plugins=[TokenLifePlugin(TokenLifeConfig(authority=authority))])
