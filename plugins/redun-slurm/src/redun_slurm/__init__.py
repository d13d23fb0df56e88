"""Run redun tasks as SLURM batch jobs (sbatch, job arrays, squeue, scancel)."""

__version__ = "0.1.0"
