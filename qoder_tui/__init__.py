"""qoder-tui: watch and debug Qoder Cloud Agents sessions in the terminal."""

__version__ = "0.1.0"
