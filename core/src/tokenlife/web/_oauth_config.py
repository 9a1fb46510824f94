"""Start-up checks of the OAuth 2.0 routes' settings (paths and introspection credentials).

Introspection tells whoever asks whether a token is alive and whose it is,
so it is never open: a path without credentials, or a credential short
enough to guess, is a ``ConfigurationError`` when the app is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from tokenlife._errors import ConfigurationError

#: A shared secret shorter than this could be guessed online.
MIN_SECRET_LENGTH: Final = 16
_PATHS: Final = ("revocation_path", "introspection_path", "metadata_path", "jwks_path")


class _OAuthSettings(Protocol):
    @property
    def introspection_path(self) -> str | None: ...
    @property
    def introspection_clients(self) -> Mapping[str, str] | None: ...


def check_oauth(config: _OAuthSettings) -> None:
    """Refuse settings that cannot work or would leave introspection open."""
    for name in _PATHS:
        path = getattr(config, name)
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ConfigurationError(f"{name} must start with '/'")
    clients = config.introspection_clients
    if clients is not None:
        if not isinstance(clients, Mapping) or not clients:
            raise ConfigurationError("introspection_clients must map client ids to secrets")
        for client_id, secret in clients.items():
            if not isinstance(client_id, str) or not client_id or ":" in client_id:
                raise ConfigurationError("introspection client ids must be non-empty, without ':'")
            if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"introspection secrets must be at least {MIN_SECRET_LENGTH} characters"
                )
    if config.introspection_path is not None and not clients:
        raise ConfigurationError(
            "introspection_path needs introspection_clients: introspection is never open"
        )


__all__ = ("MIN_SECRET_LENGTH", "check_oauth")
