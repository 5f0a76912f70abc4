"""API keys: their format (tokens), scopes, what can happen to them (apikeys), the inactivity rule (lifecycle)."""
