"""The keys' workflows, one module each (the map is in authority/keys/README.md)."""
