"""ccmgr.yaml: schema, validation and the locked, atomic store."""

from ccmgr.config.schema import LOCAL_KEYS, SHARED_KEYS, Config, parse_config
from ccmgr.config.store import ConfigStore

__all__ = ["LOCAL_KEYS", "SHARED_KEYS", "Config", "ConfigStore", "parse_config"]
