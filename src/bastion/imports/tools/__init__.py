"""One reader per foreign tool; each module exposes ``PARSER``, a
:class:`~bastion.imports.model.ToolParser`."""
