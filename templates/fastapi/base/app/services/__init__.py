"""Business logic. Services take an AsyncSession and never commit: the request's session does."""
