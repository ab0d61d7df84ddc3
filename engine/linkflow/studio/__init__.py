"""linkflow studio: a local web page to click through workflows, see refusals explained, save
what was clicked as a scenario, and look at scenario coverage.

The page is plain HTML, CSS and JavaScript served from this package (no CDN, no build step);
the server is a Starlette app run by uvicorn on 127.0.0.1. Everything the page shows comes
from the same engine as `linkflow run` and `linkflow test`, so what passes here passes there.
"""
