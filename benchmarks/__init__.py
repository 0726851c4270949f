"""`make bench`: this app against stock FastAPI Users (see bench.py)."""
