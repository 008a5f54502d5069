"""BagIt bags (RFC 8493) of dataset versions: export, reading, validation, import."""
