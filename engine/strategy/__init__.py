"""Strategy layer: validated parameters, the per-period signal and ranking, and portfolio weights.

May import: ``engine.data``, ``engine.errors``, ``engine.shapes``.
"""
