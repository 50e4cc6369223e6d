"""Falcon resources: read parameters, call one function, set the reply. No I/O of their own."""
