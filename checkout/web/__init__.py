"""The HTTP face of the edge: the Starlette app factory, middleware, authentication, errors
mapped to responses once, and the routes of every area (pages, JSON API, webhooks)."""
