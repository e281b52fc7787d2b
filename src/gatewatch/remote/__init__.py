"""Remote vantage points read from Prometheus sources (the watchlist's ``[[source]]``).

``vantage`` is the pure model (series → rows, "k of n failing", vantage down);
``prometheus`` reads a source over HTTP (``/api/v1/query``, ``/api/v1/targets``) and turns
every failure into a source problem; ``watcher`` reads the sources on their intervals in a
thread of its own and reports changes. Never imports Textual.
"""
