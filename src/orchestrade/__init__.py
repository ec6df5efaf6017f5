"""orchestrade: multi-agent algorithmic trading from research to live."""

__all__: list[str] = []
__version__ = "0.1.0"
