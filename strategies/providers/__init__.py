"""Presets for popular providers: OAuth2 and OpenID Connect strategies with normalised profiles."""
