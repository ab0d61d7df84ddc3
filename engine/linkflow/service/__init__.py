"""The engine as an HTTP service: a Starlette app (`app.create_app`) served by uvicorn.

Applications that are not written in Python start instances, send events and follow the change
feed over a JSON API; errors are RFC 9457 problem documents with stable types.
"""
