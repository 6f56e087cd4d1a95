"""Choose where an order is fulfilled: the routing (sourcing) engine, its reads and its placement service.

``policy`` and ``terms`` hold the plain data and the score terms, ``engine`` the pure
``route`` function, ``explain`` what is stored with every plan, ``candidates`` the reads
that feed it and ``placement`` the service that turns a plan into fulfilments.
How it decides: docs/routing.md.
"""
