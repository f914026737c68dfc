"""Typed commands: what a use case needs, parsed from the request at the edge (pure Python).

A view hands the posted form to a parser here; the parser returns a frozen dataclass of typed
values or raises ``validation.Invalid({field: code})`` with every field's problem at once.
Services then receive typed values only, never a request form, so they can be called from a
CLI, a task or a test with plain arguments."""
