"""Tests of the Alteryx Designer Python tool guide (docs/alteryx-python-tool.md) against a stand-in ``ayx``.

The stand-in lives in ``standin/ayx`` and is put on ``sys.path`` by the
``designer`` fixture of this package's conftest only, so that no other test
sees an ``ayx`` module (axframe prints plain progress lines when ``"ayx" in
sys.modules``).
"""
