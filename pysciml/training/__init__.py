"""Training options of every fit (engine-free objects): optimisers, strategies, losses and bound transforms."""
