"""Rule packs shipped as package data; load them with ``alerts.rules.load_pack``."""
