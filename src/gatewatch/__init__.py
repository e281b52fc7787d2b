"""gatewatch: a live status board that says which hop broke and why."""

__version__ = "0.1.0"
