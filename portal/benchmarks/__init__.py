"""The benchmark suite behind `make bench` (docs/benchmarks.md): a marketplace-scale data generator and B1–B4.

Nothing here is imported by the portal at run time; it only reads and writes the real tables.
"""
