"""sorastudio — AI video generation on the Sora family of APIs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
