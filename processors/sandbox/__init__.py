"""The sandbox payment gateway: a complete reference implementation of the Processor contract
with deterministic test payment methods, a charge ledger and test-only fault injection
(DESIGN.md §6). Start it with `python -m processors.sandbox` or `server.serve()`.
"""
