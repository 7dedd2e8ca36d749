"""One fold of a training run: ``fold.FoldRecipe`` (named steps) and the pieces it calls (see docs/architecture.md)."""
