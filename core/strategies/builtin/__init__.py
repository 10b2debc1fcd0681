"""Built-in strategies. Each module defines one Strategy subclass; the registry finds them."""
