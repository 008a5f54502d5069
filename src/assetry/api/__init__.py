"""The namespaces the ``Catalog`` facade is composed of (executions, datasets, bags), each
given an explicit ``Context``; the facade's flat DerivaML names delegate to them."""
