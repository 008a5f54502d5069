"""Plain data that crosses the Backend seam: no SQL, no HTTP, nothing above ``errors``.

Model definitions, resolved rows, terms, staged outputs, dataset versions, lineage graphs,
bag content and the execution status machine. Every layer may import these; they import
only the standard library and ``assetry.errors``.
"""
