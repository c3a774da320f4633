"""pyovs.vswitch: see ../shared/DESIGN.md, 'The house'."""
