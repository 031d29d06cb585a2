"""The shops the core runs in. Each host implements ``port.Shop`` on its shop's own
records and effects; only modules under ``hosts`` import a shop's code."""
