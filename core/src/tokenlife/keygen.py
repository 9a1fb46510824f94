"""Fresh key material from the operating system's randomness, for tools and setup.

:meth:`tokenlife.KeySet.generate` gives a ready key set; these give the raw
material to store in a secret manager or a file.
"""

from __future__ import annotations

from ._keygen import generate_key, generate_private_pem, generate_secret

__all__ = ("generate_key", "generate_private_pem", "generate_secret")
