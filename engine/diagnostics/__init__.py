"""Use cases that look at the whole chain and say what is wrong: plugins on PATH, ``kubewarm
doctor``'s checks. They return data; ``engine.cli`` words it."""
