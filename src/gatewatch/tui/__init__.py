"""The Textual board. Renders what the engine and the watchlist say; decides nothing.

The only package that imports Textual (tests/test_import_hygiene.py keeps the rest pure).
The CLI builds the app: :mod:`gatewatch.cli.board`.
"""
