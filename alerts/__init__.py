"""Alert lifecycle, routing to certified maintainers, and notifiers (DESIGN §3)."""
