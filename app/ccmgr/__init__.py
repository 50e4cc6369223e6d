"""ccmgr: one view over many ClusterControl controllers."""

__version__ = "0.1.0"
