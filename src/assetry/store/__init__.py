"""Object stores: content-addressed, write-once, verified bytes (local directory, S3)."""
