"""imitlab: learn control policies from expert demonstrations."""

__version__ = "0.1.0"
