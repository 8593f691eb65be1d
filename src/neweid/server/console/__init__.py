"""The staff web console: sign-in with TOTP, home page, error pages (plain HTML, no JavaScript)."""
