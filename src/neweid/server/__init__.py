"""The New eID management system: a Django project (back office, staff console, API).

Settings live in :mod:`neweid.server.settings`; the libraries of ``neweid`` never import this package.
"""
