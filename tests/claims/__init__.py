"""Tests of the catalogue reader, item numbers, day types and the bulk payment request file."""
