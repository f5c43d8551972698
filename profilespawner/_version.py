"""The version of profilespawner, one place for the package and its metadata (setup.cfg)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
