"""Entry point of redun-slurm (group `redun`).

The executor is being built; until it lands this module implements no hooks,
so asking for executor type `slurm` says this version does not provide it.
"""
