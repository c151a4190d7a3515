"""The floor of the edge: what every other package builds on. Imports nothing above it."""
