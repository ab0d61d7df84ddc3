"""Effects: what linkflow does in the outside world after a step committed (webhooks out).

Sits above the store: it reads what the store recorded (the change feed) and writes back only
its own progress; it never runs inside a step's transaction.
"""
