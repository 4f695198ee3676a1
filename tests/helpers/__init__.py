"""Test helpers: data generators, the fake Julia bridge, worker scripts and the standard test problems."""
