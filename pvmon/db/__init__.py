"""The relational store: schema, engine and migrations."""
