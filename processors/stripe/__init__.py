"""The Stripe gateway adapter: the Processor contract over Stripe's PaymentIntents API, through
the official `stripe` SDK, on the shared kit (processors/kit). docs/processors.md, "Stripe
adapter", says how to run and test it.

  config.py           StripeConfig and the command line
  server.py           `serve(config)` and `main(argv)` (`payloops serve processor stripe`)
  servicer.py         the RPCs, each one or a few Stripe calls
  params.py           requests checked and turned into Stripe parameters
  client.py           a StripeClient per secret key on one HTTP pool; what each call's
                      attempts did on the wire (for NOT_SENT)
  errors.py           Stripe's errors as the contract's
  lookup.py           finding a PaymentIntent by attempt key, a refund by refund key
  mapping.py          PaymentIntents, Charges and Refunds → Payment / Refund messages
  declines.py         Stripe decline codes → PayLoops codes, hard or soft (data)
  currencies.py       ISO minor units ↔ Stripe's units
  payment_methods.py  Stripe's magic test PaymentMethods, as advertised
  webhooks.py         Stripe-Signature verification and event normalization
"""
