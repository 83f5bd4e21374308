"""Scanners: the protocol, the entry-point registry, the shared walk and the engine."""
