"""Background work: a worker that claims jobs from the queue (`services.jobs`) and runs them."""
