"""cmonsim: simulated ClusterControl controllers speaking cmon RPC v2."""

__version__ = "0.1.0"
