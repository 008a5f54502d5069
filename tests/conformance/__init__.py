"""Conformance suites, in the style of fsspec's ``tests/abstract``.

``backend/`` holds abstract test classes for what may differ between Backend
implementations; ``test_backend_<name>.py`` binds them to one backend (``sqlite``,
``postgres``, ``remote``). ``store/`` and ``test_store_<name>.py`` do the same for object
stores (``local``, ``s3``, ``http``). Classes named ``Abstract...`` in modules not named
``test_*`` are not collected by themselves: only their concrete subclasses run.
"""
