"""Presets for popular providers: OAuth2 and OpenID Connect strategies with normalised profiles.

One module each, imported by name (nothing is imported here, so using one preset never loads
the others): `github.GitHubStrategy`, `discord.DiscordStrategy` (OAuth 2.0),
`google.GoogleStrategy`, `microsoft.MicrosoftStrategy`, `gitlab.GitLabStrategy` and
`generic.GenericOIDCStrategy` (OpenID Connect). Each module's docstring says what to create
in the provider's console.
"""
