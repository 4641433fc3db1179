"""The sandbox payment gateway: a complete reference implementation of the Processor contract
on the shared kit (processors/kit), with deterministic test payment methods, a charge ledger and
test-only fault injection. Start it with `python -m processors.sandbox` or `server.serve()`.

  config.py           SandboxConfig and the command line
  server.py           `serve(config)` and `main(argv)`: gRPC, the control service, the 3DS page
  servicer.py         the RPCs, with injected faults around the payment ones
  params.py           requests checked and turned into ledger input
  ledger.py           every payment and refund, and the rules that move them (SQLite optional)
  mapping.py          ledger records → Payment / Refund messages
  declines.py         the decline codes, hard or soft (data)
  payment_methods.py  the test tokens and what each does (data)
  webhooks.py         x-sandbox-signature verification and event parsing
  challenge_page.py   the 3-D Secure page the customer completes or fails
  control.py, faults.py  SandboxControlService: faults to inject, the ledger to read
"""
