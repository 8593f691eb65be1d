"""neweid: an open implementation of Taiwan's New eID (數位身分識別證) system."""

__version__ = "0.1.0"
