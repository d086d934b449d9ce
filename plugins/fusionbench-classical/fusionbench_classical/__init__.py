"""Classical fusion baselines, registered through the public fusionbench plugin API only."""

__version__ = "0.1.0"
