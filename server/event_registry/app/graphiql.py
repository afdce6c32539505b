"""GraphiQL served entirely from this server: no CDN, works with no network.

The page loads React, ReactDOM and GraphiQL from ``/static/graphiql/`` (vendored from npm by
``scripts/vendor-graphiql``) and talks to ``/graphql`` on the same origin.
"""

from __future__ import annotations

ASSET_DIR = "graphiql"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Knative Event Registry · GraphiQL</title>
  <link rel="stylesheet" href="/static/graphiql/graphiql.min.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/static/graphiql/react.production.min.js"></script>
  <script src="/static/graphiql/react-dom.production.min.js"></script>
  <script src="/static/graphiql/graphiql.min.js"></script>
  <script src="/static/graphiql/start.js"></script>
</body>
</html>
"""
