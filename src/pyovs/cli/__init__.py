"""pyovs.cli: see ../shared/DESIGN.md, 'The house'."""
