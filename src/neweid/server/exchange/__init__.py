"""The MGMT-1 exchanges: files with the household registration system and the production centre, the
machine clients that fetch and post them, and the production centre behind the exchange API."""
