"""The GraphQL API (Strawberry): types over domain models, queries, the federated schema.

Resolvers read only the request's snapshot of the cache (fixed when the request starts), so
one operation sees one consistent state and never calls the cluster.
"""
