"""Customer data rights: export, erasure, retention and the register of where personal data lives.

It spans orders, fulfilments and returns, which no single app may see together, so it lives
in the project package. What counts as personal data, and what happens to it: docs/decisions.md.
"""
