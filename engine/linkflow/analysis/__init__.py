"""Questions about workflows and their scenarios: exploration, coverage, skeleton generation."""
