"""The sandbox payment gateway: a complete reference implementation of the Processor contract
with deterministic test payment methods, a charge ledger and test-only fault injection
(docs/design.md, the sandbox). Start it with `python -m processors.sandbox` or `server.serve()`.
"""
