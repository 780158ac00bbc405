"""strongbox: a self-hosted backup service that speaks the Azure Backup REST API."""

__version__ = "0.1.0"
