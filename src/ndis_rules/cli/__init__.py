"""The ``ndis-rules`` command line: one module per command group over the public API."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
