"""Built-in strategies: `passport_py.strategies.local.LocalStrategy`, ..."""
