"""The Razorpay gateway adapter: a Processor server that translates PayLoops' contract to
Razorpay's API through the official `razorpay` SDK (2.0.1).

  server.py      the gRPC server and `main(argv)` (`payloops serve processor razorpay`)
  servicer.py    the RPCs: a thread pool for the synchronous SDK, per-key serialization
  gateway.py     orders, S2S card payments, capture, void, refunds, lookups
  transport.py   the requests.Session under the SDK: timeouts, structured errors, transport
                 failures classified
  errors.py      the error catalogue and the interceptor that sends google.rpc.Status
  mapping.py     Razorpay entities → Payment / Refund messages
  keys.py        receipts and idempotency headers derived from PayLoops' keys
  declines.py    Razorpay failure reasons → decline codes, hard or soft (data)
  currencies.py  currencies and Razorpay's amount rules (data)
  tokens.py      the test payment methods advertised (the fake's convention)
  webhooks.py    X-Razorpay-Signature verification and event parsing
"""
