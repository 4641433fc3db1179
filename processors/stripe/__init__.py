"""The Stripe gateway adapter: the Processor contract over Stripe's PaymentIntents API, through
the official `stripe` SDK. docs/processors.md, "Stripe adapter", says how to run and test it."""
