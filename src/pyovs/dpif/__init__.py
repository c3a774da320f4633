"""pyovs.dpif: see ../shared/DESIGN.md, 'The house'."""
