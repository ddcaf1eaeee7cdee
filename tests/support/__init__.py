"""Helpers the tests share: real servers and receivers, known traffic, worlds to test
against, waiting for a condition. Test modules import from here, never from each other."""
