"""Talking to ClusterControl controllers (cmon RPC v2): the client, its errors, key-based
login, the shaping of the records it returns and the plain data model handed from the
collectors to the views. Depends on nothing else in ccmgr but ``http`` and ``jsonfast``."""
