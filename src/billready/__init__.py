"""billready: catch milestone-billing errors before invoicing."""

__version__ = "0.1.0"
