"""One module per network: native payload <-> domain event, send; nothing else."""
