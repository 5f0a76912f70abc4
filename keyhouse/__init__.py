"""Keyhouse: the API-key domain, the CRM behind the API, and the web plumbing.

The top level (app.py, wsgi.py, blueprints/, jobs/, templates/, static/) is the
product; this package holds what it is made of. docs/development.md has a line
for every module.
"""
