"""Model collapse course utilities."""
