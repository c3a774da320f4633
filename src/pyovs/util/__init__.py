"""pyovs.util: see ../shared/DESIGN.md, 'The house'."""
