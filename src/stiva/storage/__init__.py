"""Byte storage: a narrow driver protocol, its wrapper, and the drivers (filesystem, S3)."""
