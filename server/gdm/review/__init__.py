"""The review engine: edit plans for accepting patches and undoing tasks, and the appliers that carry them out."""
