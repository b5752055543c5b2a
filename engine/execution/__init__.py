"""Execution layer: the Ray cluster (embedded or external), connecting to it, the Ray
executor and cluster status. The only layer that imports ray.

May import: every lower layer, ``engine.jobs``, ``engine.errors``.
"""
