"""The gateway kit: what every processor adapter shares, so that each adapter keeps only what
is its gateway's (parameters, mapping, declines, webhooks, currencies). It knows only the
generated contract (payloops.processor.v1), never PayLoops' services.

  server.py        serve_processor(): Processor + health + reflection + the interceptor on
                   grpc.aio, a graceful stop; run(): until SIGTERM or SIGINT
  errors.py        ProcessorError, the one error type, and the contract's error rules
  interceptor.py   ErrorInterceptor: ProcessorError → google.rpc.Status with ErrorInfo
  config.py        ServerConfig and the typed, frozen config pattern for the command line
  checks.py        the request checks every adapter makes
  declines.py      DeclineRule: a gateway reason as the contract's Decline
  capabilities.py  TestMethod: the test payment methods GetCapabilities advertises
  webhooks.py      header lookup and the two webhook refusals
  locks.py         keyed locks (asyncio and threads): one call at a time per payment
  bounded.py       BoundedMap: a thread-safe LRU map for caches and what a process remembers
  logs.py          key=value log lines with the RPC's correlation id

docs/processors.md, "In Python: the gateway kit", shows a new adapter built on it.
"""
