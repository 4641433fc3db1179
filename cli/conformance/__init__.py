"""The Processor conformance kit behind `payloops processor-check`.

`client` talks to the server under test and turns gRPC errors into values, `verdicts` says how
a check passes, fails or is skipped, `session` holds what every check needs (capabilities,
chosen test tokens, fresh keys), `checks/` holds the rules of the contract, one module per
area, and `suite` orders them and runs a selection.
"""
