"""Long work a person started and may watch: a lead import, a duplicate scan, a model
training, a forecast backtest. One ``job`` row per run carries how far it got, so a page
can show a progress bar, be left, and be found again."""
