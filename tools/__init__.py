"""Instructor and maintainer tools, run from a clone: not shipped with ``collapse_utils``."""
