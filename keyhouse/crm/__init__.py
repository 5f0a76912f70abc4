"""The CRM behind the API: input rules (inputs) and what can happen to its records (actions)."""
