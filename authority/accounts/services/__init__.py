"""The workflows of accounts, one module each: signing in, invitations, managing people."""
