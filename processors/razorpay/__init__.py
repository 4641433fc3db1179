"""The Razorpay gateway adapter: a Processor server that translates PayLoops' contract to
Razorpay's API through the official `razorpay` SDK (2.0.1), on the shared kit
(processors/kit: server, errors, config, locks, bounded maps).

  config.py           RazorpayConfig and the command line
  server.py           `serve(config)` and `main(argv)` (`payloops serve processor razorpay`)
  servicer.py         the RPCs: a thread pool for the synchronous SDK, per-key serialization
  gateway.py          orders, S2S card payments, capture, void, refunds, lookups by PayLoops' keys
  lookup.py           reading orders, payments and refunds back
  params.py           requests checked, and the notes and fields Razorpay is sent
  client.py           credentials, an SDK client per thread and account, one request classified
  transport.py        the requests.Session under the SDK: timeouts, structured errors, transport
                      failures classified
  errors.py           Razorpay's errors and transport failures as the contract's
  mapping.py          Razorpay entities → Payment / Refund messages
  keys.py             receipts and idempotency headers derived from PayLoops' keys
  redirects.py        where a payment waiting for 3-D Secure sends the customer
  declines.py         Razorpay failure reasons → decline codes, hard or soft (data)
  currencies.py       currencies and Razorpay's amount rules (data)
  payment_methods.py  the test payment methods advertised (the fake's convention)
  webhooks.py         X-Razorpay-Signature verification and event parsing
"""
