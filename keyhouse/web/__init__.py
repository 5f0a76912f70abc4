"""Web plumbing shared by every blueprint: htmx rendering, request values, security headers, layout, filters, errors."""
