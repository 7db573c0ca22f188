"""The apps' configuration service: GET /v1/settings and the pages that edit, publish and roll
back what it serves (docs/app-settings.md)."""
