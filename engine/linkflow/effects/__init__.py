"""Effects: what linkflow does in the outside world after a step committed.

Two parts: the webhook deliverer (webhooks.py), which follows the change feed, and the effects
worker (worker.py, with http_call.py and results.py), which performs the calls steps wrote to
the outbox (store/outbox.py) and gives an invoke's answer back to its instance as an event.

Sits above the store: it reads what the store recorded and writes back only its own progress
and, through the store's exactly-once event path, results; it never runs inside a step's
transaction.
"""
