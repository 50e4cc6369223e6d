"""The OpenAPI 3 document (placeholder until the full description lands)."""

from __future__ import annotations


def document() -> dict:
    return {"openapi": "3.0.3", "info": {"title": "ccmgr", "version": "0"}, "paths": {}}
