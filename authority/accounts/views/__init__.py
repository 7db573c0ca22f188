"""The pages of accounts, one module per purpose: signing in, invitations, people, audit trail."""
