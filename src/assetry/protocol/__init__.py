"""The wire between the remote client and the server, owned by neither.

``operations``: every Backend operation served over HTTP, the role each needs, and the
other routes; ``wire``: how arguments, results and errors are encoded in JSON;
``errors``: which HTTP status each assetry error travels with. ``client/`` and
``server/`` both import from here and never from each other, so adding an operation is
one entry in ``operations`` (a test checks both sides against the Backend's signatures).
"""
