"""Sandbox stand-in for the published ``sky_spot`` package (the API strategies use)."""
