"""pyovs.odp: see ../shared/DESIGN.md, 'The house'."""
