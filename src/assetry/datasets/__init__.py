"""Datasets: named, versioned collections of catalog rows."""
