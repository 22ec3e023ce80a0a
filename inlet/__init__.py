"""`inlet`: the command-line client of the Inlet ingestion API (HTTP only, no server code)."""

__version__ = "0.1.0"
