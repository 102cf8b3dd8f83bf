"""Moved: client capabilities are server state, in gdm/client_caps.py (this name stays for imports)."""

from __future__ import annotations

from gdm.client_caps import ClientCaps

__all__ = ["ClientCaps"]
